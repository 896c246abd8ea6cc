//! Gymnasium's `render()` of each classic-control env, operation for operation (the geometry of
//! `cartpole.py`, `pendulum.py`, `(continuous_)mountain_car.py` and `acrobot.py`), drawn on a
//! [`Canvas`].

use std::f64::consts::PI;
use std::sync::OnceLock;

use tiny_skia::Pixmap;

use crate::EnvError;
use crate::render::{Canvas, Frame, Rgb, rotate};

const BLACK: Rgb = (0, 0, 0);

fn moved(points: &[(f64, f64)], angle: f64, dx: f64, dy: f64) -> Vec<(f64, f64)> {
    points
        .iter()
        .map(|&p| {
            let (x, y) = rotate(p, angle);
            (x + dx, y + dy)
        })
        .collect()
}

fn rect(l: f64, r: f64, t: f64, b: f64) -> [(f64, f64); 4] {
    [(l, b), (l, t), (r, t), (r, b)]
}

/// CartPole-v1, 600×400: the cart, the pole (half-length 0.5), its axle and the track.
pub(crate) fn cartpole(state: [f64; 4], env: &str) -> Result<Frame, EnvError> {
    let (width, height) = (600.0, 400.0);
    let scale = width / (2.4 * 2.0);
    let (polewidth, polelen) = (10.0, scale * (2.0 * 0.5));
    let (cartwidth, cartheight) = (50.0, 30.0);
    let mut c = Canvas::new(600, 400, env)?;
    let axleoffset = cartheight / 4.0;
    let cartx = state[0] * scale + width / 2.0;
    let carty = 100.0;
    let cart = rect(
        -cartwidth / 2.0,
        cartwidth / 2.0,
        cartheight / 2.0,
        -cartheight / 2.0,
    );
    c.polygon(&moved(&cart, 0.0, cartx, carty), BLACK);
    let pole = rect(
        -polewidth / 2.0,
        polewidth / 2.0,
        polelen - polewidth / 2.0,
        -polewidth / 2.0,
    );
    c.polygon(
        &moved(&pole, -state[2], cartx, carty + axleoffset),
        (202, 152, 101),
    );
    c.circle(
        cartx as i64,
        (carty + axleoffset) as i64,
        (polewidth / 2.0) as i64,
        (129, 132, 203),
    );
    c.hline(0, width as i64, carty as i64, BLACK);
    let _ = height;
    Ok(c.finish())
}

/// The arrow Gymnasium draws for the last torque (`assets/clockwise.png`, from Gymnasium).
fn clockwise() -> Option<&'static Pixmap> {
    static ARROW: OnceLock<Option<Pixmap>> = OnceLock::new();
    ARROW
        .get_or_init(|| Pixmap::decode_png(include_bytes!("../../assets/clockwise.png")).ok())
        .as_ref()
}

/// Pendulum-v1, 500×500: the rod, its end, the torque arrow (sized by the last torque) and the axle.
pub(crate) fn pendulum(theta: f64, last_u: Option<f32>, env: &str) -> Result<Frame, EnvError> {
    let dim = 500;
    let scale = f64::from(dim) / (2.2 * 2.0);
    let offset = i64::from(dim / 2);
    let o = offset as f64;
    let (rod_length, rod_width) = (scale, 0.2 * scale);
    let red = (204, 77, 77);
    let mut c = Canvas::new(dim, dim, env)?;
    let rod = rect(0.0, rod_length, rod_width / 2.0, -rod_width / 2.0);
    c.polygon(&moved(&rod, theta + PI / 2.0, o, o), red);
    c.circle(offset, offset, (rod_width / 2.0) as i64, red);
    let end = rotate((rod_length, 0.0), theta + PI / 2.0);
    c.circle(
        (end.0 + o) as i64,
        (end.1 + o) as i64,
        (rod_width / 2.0) as i64,
        red,
    );
    if let (Some(u), Some(arrow)) = (last_u, clockwise()) {
        // pygame's smoothscale takes the float size and truncates it.
        let size = (scale * f64::from(u.abs()) / 2.0) as u32;
        let half = i64::from(size / 2);
        c.image(arrow, size, u > 0.0, offset - half, offset - half);
    }
    c.circle(offset, offset, (0.05 * scale) as i64, BLACK);
    Ok(c.finish())
}

/// MountainCar-v0 and MountainCarContinuous-v0, 600×400: the hill, the car with its wheels, and the
/// flag at `goal`.
pub(crate) fn mountain_car(position: f64, goal: f64, env: &str) -> Result<Frame, EnvError> {
    let (min, max) = (-1.2, 0.6);
    let height = |x: f64| (3.0 * x).sin() * 0.45 + 0.55;
    let scale = 600.0 / (max - min);
    let (carwidth, carheight) = (40.0, 20.0);
    let mut c = Canvas::new(600, 400, env)?;
    let hill: Vec<(f64, f64)> = (0..100)
        .map(|i| {
            let x = min + (max - min) * f64::from(i) / 99.0;
            ((x - min) * scale, height(x) * scale)
        })
        .collect();
    c.lines(&hill, BLACK);
    let clearance = 10.0;
    let angle = (3.0 * position).cos();
    let (dx, dy) = (
        (position - min) * scale,
        clearance + height(position) * scale,
    );
    let car = rect(-carwidth / 2.0, carwidth / 2.0, carheight, 0.0);
    c.polygon(&moved(&car, angle, dx, dy), BLACK);
    for wheel in [(carwidth / 4.0, 0.0), (-carwidth / 4.0, 0.0)] {
        let (x, y) = rotate(wheel, angle);
        c.circle(
            (x + dx) as i64,
            (y + dy) as i64,
            (carheight / 2.5) as i64,
            (128, 128, 128),
        );
    }
    let flagx = ((goal - min) * scale) as i64;
    let flagy1 = (height(goal) * scale) as i64;
    let flagy2 = flagy1 + 50;
    c.vline(flagx, flagy1, flagy2, BLACK);
    let (fx, fy) = (flagx as f64, flagy2 as f64);
    c.polygon(
        &[(fx, fy), (fx, fy - 10.0), (fx + 25.0, fy - 5.0)],
        (204, 204, 0),
    );
    Ok(c.finish())
}

/// Acrobot-v1, 500×500: the bar at height 1, the two links and their joints.
pub(crate) fn acrobot(s: [f64; 4], env: &str) -> Result<Frame, EnvError> {
    let dim = 500;
    let bound = 1.0 + 1.0 + 0.2;
    let scale = f64::from(dim) / (bound * 2.0);
    let offset = f64::from(dim) / 2.0;
    let mut c = Canvas::new(dim, dim, env)?;
    // `pygame.draw.line` (not anti-aliased) between points whose coordinates it truncates.
    c.hline(
        (-2.2 * scale + offset) as i64,
        (2.2 * scale + offset) as i64,
        (scale + offset) as i64,
        BLACK,
    );
    let p1 = (-s[0].cos() * scale, s[0].sin() * scale);
    // Gymnasium's `np.array([[0, 0], p1])[:, ::-1]`: each point with its coordinates swapped.
    let joints = [(0.0, 0.0), (p1.1, p1.0)];
    let thetas = [s[0] - PI / 2.0, s[0] + s[1] - PI / 2.0];
    for ((x, y), th) in joints.into_iter().zip(thetas) {
        let (x, y) = (x + offset, y + offset);
        let link = rect(0.0, scale, 0.1 * scale, -0.1 * scale);
        c.polygon(&moved(&link, th, x, y), (0, 204, 204));
        c.circle(x as i64, y as i64, (0.1 * scale) as i64, (204, 204, 0));
    }
    Ok(c.finish())
}
