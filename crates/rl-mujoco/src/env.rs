//! [`MujocoEnv`]: one Gymnasium MuJoCo v5 task on MuJoCo's C library.

use std::sync::{Arc, OnceLock};

use mujoco_rs::mujoco_c::{_mjtObjBase, mjtState, mjtWarning};
use mujoco_rs::renderer::MjRenderer;
use mujoco_rs::wrappers::{MjData, MjModel, MjvCamera};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rl_envs::{Action, BoxSpace, Env, EnvError, EnvRng, Frame, Snapshot, Space, Step};
use serde::{Deserialize, Serialize};

use crate::numpy::{control_cost_f32, sum, sum_of_squares};
use crate::tasks::Task;

/// What [`Env::snapshot`] stores with MuJoCo's state: everything else a step reads.
const STATE: u32 = mjtState::mjSTATE_INTEGRATION as u32;

/// The warnings MuJoCo gives when the simulation becomes unstable (it then resets `mjData`).
const INSTABILITY: [(mjtWarning, &str); 3] = [
    (mjtWarning::mjWARN_BADQPOS, "NaN, Inf or huge value in qpos"),
    (mjtWarning::mjWARN_BADQVEL, "NaN, Inf or huge value in qvel"),
    (mjtWarning::mjWARN_BADQACC, "NaN, Inf or huge value in qacc"),
];

/// The model of `task`, compiled once per process and shared (read-only) by its envs.
fn model(task: Task) -> Result<Arc<MjModel>, EnvError> {
    static MODELS: [OnceLock<Result<Arc<MjModel>, String>>; 10] = [const { OnceLock::new() }; 10];
    let slot = Task::ALL.iter().position(|t| *t == task).unwrap_or(0);
    MODELS[slot]
        .get_or_init(|| {
            MjModel::from_xml_string(task.xml())
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|reason| EnvError::InvalidConfig(format!("{}: MuJoCo model: {reason}", task.id())))
}

/// A Gymnasium MuJoCo v5 task with v5's default arguments, step for step equal to Gymnasium
/// 1.4.0's on the same MuJoCo (3.17.0): the same model, frame skip, observation layout, reward
/// terms, healthy ranges and termination rules. `rl_envs::make` adds the time limit (see
/// [`Task::spec`]).
///
/// - Observations are Gymnasium's float64 values rounded to float32 (the `Env` API's type).
/// - Actions are the controls (`data.ctrl`); MuJoCo clamps them to the actuators' ranges, and the
///   control cost uses the action as given, as in Gymnasium. A NaN or infinite action, or one of
///   the wrong length, is an error.
/// - Reset noise follows each task's rule (uniform or normal, v5's scales) from the env's own
///   seeded generator; `reset(Some(seed))` gives the same episode on every run.
/// - If MuJoCo reports the simulation unstable (NaN or huge positions, velocities or
///   accelerations: it then resets its state), or an observation is not finite, `step` returns
///   [`EnvError::Simulation`] naming it rather than handing a learner a reset or NaN state.
/// - [`Env::snapshot`] saves MuJoCo's integration state (`mjSTATE_INTEGRATION`: time, `qpos`,
///   `qvel`, activations, warm start, controls, ...) and the generator: a restored env continues
///   bit for bit.
/// - [`Env::state`] / [`Env::set_state`] are `qpos` followed by `qvel` (Gymnasium's
///   `state_vector()` / `set_state(qpos, qvel)`, which runs `mj_forward`).
pub struct MujocoEnv {
    task: Task,
    data: MjData<Arc<MjModel>>,
    dt: f64,
    nq: usize,
    nv: usize,
    nu: usize,
    init_qpos: Vec<f64>,
    init_qvel: Vec<f64>,
    observation_space: Space,
    action_space: Space,
    obs: Vec<f32>,
    state: Vec<f64>,
    /// What the task's step reads before simulating (`x` or `(x, y)` of the body it moves).
    position: [f64; 2],
    terms: Vec<(&'static str, f64)>,
    rng: Option<EnvRng>,
    started: bool,
    /// Body ids (Ant: torso; Reacher: fingertip, target; Pusher: tips_arm, object, goal).
    bodies: Vec<usize>,
    scratch: Vec<f64>,
}

impl std::fmt::Debug for MujocoEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MujocoEnv")
            .field("task", &self.task)
            .field("time", &self.data.time())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct Saved {
    env: String,
    state: Vec<f64>,
    position: [f64; 2],
    obs: Vec<f32>,
    rng: Option<EnvRng>,
    started: bool,
}

impl MujocoEnv {
    /// The task `task` with Gymnasium v5's default arguments.
    pub fn new(task: Task) -> Result<Self, EnvError> {
        let model = model(task)?;
        let m = model.ffi();
        let (nq, nv, nu) = (m.nq as usize, m.nv as usize, m.nu as usize);
        let dt = m.opt.timestep * task.frame_skip() as f64;
        let ranges = model.actuator_ctrlrange();
        let low: Vec<f32> = ranges.iter().map(|r| r[0] as f32).collect();
        let high: Vec<f32> = ranges.iter().map(|r| r[1] as f32).collect();
        let bodies = match task {
            Task::Ant => vec![1],
            Task::Reacher => body_ids(&model, task, &["fingertip", "target"])?,
            Task::Pusher => body_ids(&model, task, &["tips_arm", "object", "goal"])?,
            _ => Vec::new(),
        };
        let data = MjData::try_new(model.clone())
            .map_err(|e| EnvError::InvalidConfig(format!("{}: MuJoCo data: {e}", task.id())))?;
        let (init_qpos, init_qvel) = (data.qpos().to_vec(), data.qvel().to_vec());
        let mut env = Self {
            task,
            data,
            dt,
            nq,
            nv,
            nu,
            init_qpos,
            init_qvel,
            observation_space: Space::Box(BoxSpace::uniform(f32::NEG_INFINITY, f32::INFINITY, 0)?),
            action_space: Space::Box(BoxSpace::new(low, high, vec![nu])?),
            obs: Vec::new(),
            state: vec![0.0; nq + nv],
            position: [0.0; 2],
            terms: Vec::new(),
            rng: None,
            started: false,
            bodies,
            scratch: Vec::new(),
        };
        env.observe();
        let dim = env.obs.len();
        env.observation_space =
            Space::Box(BoxSpace::uniform(f32::NEG_INFINITY, f32::INFINITY, dim)?);
        Ok(env)
    }

    /// The task.
    pub fn task(&self) -> Task {
        self.task
    }

    /// The reward terms of the last step, with the names of Gymnasium's `info` keys
    /// (`reward_forward`, `reward_ctrl`, `reward_contact`, `reward_survive`, `reward_dist`,
    /// `reward_near`, `distance_penalty`, `velocity_penalty`).
    pub fn reward_terms(&self) -> &[(&'static str, f64)] {
        &self.terms
    }

    /// Seconds of simulated time per step (`timestep × frame_skip`).
    pub fn dt(&self) -> f64 {
        self.dt
    }

    fn qpos(&self) -> &[f64] {
        self.data.qpos()
    }

    /// The position the task's forward reward differentiates, as Gymnasium reads it from
    /// `data` (Ant: the torso's `xpos`; Humanoid: the centre of mass of `xipos`; after a step
    /// both are MuJoCo's values from the start of the last substep, as in Gymnasium).
    fn read_position(&self) -> [f64; 2] {
        match self.task {
            Task::HalfCheetah | Task::Hopper | Task::Walker2d => [self.qpos()[0], 0.0],
            Task::Swimmer => [self.qpos()[0], self.qpos()[1]],
            Task::Ant => {
                let p = self.data.xpos()[self.bodies[0]];
                [p[0], p[1]]
            }
            Task::Humanoid => {
                let mass = self.data.model().body_mass();
                let xipos = self.data.xipos();
                let mut num = [0.0; 2];
                for (m, p) in mass.iter().zip(xipos) {
                    num[0] += m * p[0];
                    num[1] += m * p[1];
                }
                let total = sum(mass);
                [num[0] / total, num[1] / total]
            }
            _ => [0.0; 2],
        }
    }

    fn body(&self, k: usize) -> [f64; 3] {
        self.data.xpos()[self.bodies[k]]
    }

    /// Fills `self.obs` (Gymnasium's `_get_obs`, rounded to float32) and `self.state`.
    fn observe(&mut self) {
        let mut obs = std::mem::take(&mut self.obs);
        obs.clear();
        let qpos = self.data.qpos();
        let qvel = self.data.qvel();
        let f = |x: &f64| *x as f32;
        match self.task {
            Task::HalfCheetah => {
                obs.extend(qpos[1..].iter().map(f));
                obs.extend(qvel.iter().map(f));
            }
            Task::Hopper | Task::Walker2d => {
                obs.extend(qpos[1..].iter().map(f));
                obs.extend(qvel.iter().map(|v| v.clamp(-10.0, 10.0) as f32));
            }
            Task::Swimmer => {
                obs.extend(qpos[2..].iter().map(f));
                obs.extend(qvel.iter().map(f));
            }
            Task::Ant => {
                obs.extend(qpos[2..].iter().map(f));
                obs.extend(qvel.iter().map(f));
                let forces = self.data.cfrc_ext();
                obs.extend(
                    forces[1..]
                        .iter()
                        .flatten()
                        .map(|v| v.clamp(-1.0, 1.0) as f32),
                );
            }
            Task::Humanoid => {
                obs.extend(qpos[2..].iter().map(f));
                obs.extend(qvel.iter().map(f));
                obs.extend(self.data.cinert()[1..].iter().flatten().map(f));
                obs.extend(self.data.cvel()[1..].iter().flatten().map(f));
                obs.extend(self.data.qfrc_actuator()[6..].iter().map(f));
                obs.extend(self.data.cfrc_ext()[1..].iter().flatten().map(f));
            }
            Task::InvertedPendulum => {
                obs.extend(qpos.iter().map(f));
                obs.extend(qvel.iter().map(f));
            }
            Task::InvertedDoublePendulum => {
                obs.push(qpos[0] as f32);
                obs.extend(qpos[1..].iter().map(|q| q.sin() as f32));
                obs.extend(qpos[1..].iter().map(|q| q.cos() as f32));
                obs.extend(qvel.iter().map(|v| v.clamp(-10.0, 10.0) as f32));
                obs.push(self.data.qfrc_constraint()[0].clamp(-10.0, 10.0) as f32);
            }
            Task::Reacher => {
                obs.extend(qpos[..2].iter().map(|q| q.cos() as f32));
                obs.extend(qpos[..2].iter().map(|q| q.sin() as f32));
                obs.extend(qpos[2..].iter().map(f));
                obs.extend(qvel[..2].iter().map(f));
                let (tip, target) = (self.body(0), self.body(1));
                obs.extend((0..2).map(|i| (tip[i] - target[i]) as f32));
            }
            Task::Pusher => {
                obs.extend(qpos[..7].iter().map(f));
                obs.extend(qvel[..7].iter().map(f));
                for k in 0..3 {
                    obs.extend(self.body(k).iter().map(f));
                }
            }
        }
        self.obs = obs;
        let (nq, qpos, qvel) = (self.nq, self.data.qpos(), self.data.qvel());
        self.state[..nq].copy_from_slice(qpos);
        self.state[nq..].copy_from_slice(qvel);
    }

    /// Gymnasium's `set_state(qpos, qvel)`: the positions and velocities, then `mj_forward`.
    fn put(&mut self, qpos: &[f64], qvel: &[f64]) {
        self.data.qpos_mut().copy_from_slice(qpos);
        self.data.qvel_mut().copy_from_slice(qvel);
        self.data.forward();
        self.position = self.read_position();
        self.observe();
    }

    fn uniform(&mut self, low: f64, high: f64, n: usize) -> Vec<f64> {
        let rng = rl_envs_rng(&mut self.rng);
        (0..n)
            .map(|_| low + (high - low) * rng.random::<f64>())
            .collect()
    }

    fn normal(&mut self, scale: f64, n: usize) -> Vec<f64> {
        let rng = rl_envs_rng(&mut self.rng);
        (0..n)
            .map(|_| scale * rng.sample::<f64, _>(StandardNormal))
            .collect()
    }

    /// Each task's `reset_model`: the initial state plus noise (or a random goal).
    fn reset_state(&mut self) -> (Vec<f64>, Vec<f64>) {
        let (nq, nv) = (self.nq, self.nv);
        let add = |init: &[f64], noise: Vec<f64>| -> Vec<f64> {
            init.iter().zip(noise).map(|(a, b)| a + b).collect()
        };
        let (qi, vi) = (self.init_qpos.clone(), self.init_qvel.clone());
        match self.task {
            // Uniform positions, normal velocities, both at scale 0.1.
            Task::HalfCheetah | Task::Ant | Task::InvertedDoublePendulum => {
                let qpos = add(&qi, self.uniform(-0.1, 0.1, nq));
                let qvel = add(&vi, self.normal(0.1, nv));
                (qpos, qvel)
            }
            Task::Hopper
            | Task::Walker2d
            | Task::Humanoid
            | Task::Swimmer
            | Task::InvertedPendulum => {
                let s = match self.task {
                    Task::Hopper | Task::Walker2d => 5e-3,
                    Task::Humanoid | Task::InvertedPendulum => 1e-2,
                    _ => 0.1,
                };
                let qpos = add(&qi, self.uniform(-s, s, nq));
                let qvel = add(&vi, self.uniform(-s, s, nv));
                (qpos, qvel)
            }
            Task::Reacher => {
                let mut qpos: Vec<f64> = self
                    .uniform(-0.1, 0.1, nq)
                    .iter()
                    .zip(&qi)
                    .map(|(n, q)| n + q)
                    .collect();
                let goal = loop {
                    let g = self.uniform(-0.2, 0.2, 2);
                    if g[0].hypot(g[1]) < 0.2 {
                        break g;
                    }
                };
                qpos[nq - 2..].copy_from_slice(&goal);
                let mut qvel = add(&vi, self.uniform(-0.005, 0.005, nv));
                qvel[nv - 2..].fill(0.0);
                (qpos, qvel)
            }
            Task::Pusher => {
                let mut qpos = qi;
                let cylinder = loop {
                    let x = self.uniform(-0.3, 0.0, 1)[0];
                    let y = self.uniform(-0.2, 0.2, 1)[0];
                    if x.hypot(y) > 0.17 {
                        break [x, y];
                    }
                };
                qpos[nq - 4..nq - 2].copy_from_slice(&cylinder);
                qpos[nq - 2..].fill(0.0);
                let mut qvel = add(&vi, self.uniform(-0.005, 0.005, nv));
                qvel[nv - 4..].fill(0.0);
                (qpos, qvel)
            }
        }
    }

    /// After MuJoCo stepped: an error if it found the simulation unstable or the state is not
    /// finite.
    fn check_stable(&self, before: &[i32; 3], t0: f64) -> Result<(), EnvError> {
        let warnings = self.data.warning();
        for ((kind, what), count) in INSTABILITY.iter().zip(before) {
            if warnings[*kind as usize].number > *count {
                return Err(self.unstable(format!(
                    "MuJoCo found {what} (warning {kind:?} at DOF {}) in the step from time {t0:.4} and reset the simulation",
                    warnings[*kind as usize].lastinfo,
                )));
            }
        }
        if let Some(i) = self.obs.iter().position(|v| !v.is_finite()) {
            return Err(self.unstable(format!(
                "observation component {i} is {} after the step from time {t0:.4}",
                self.obs[i]
            )));
        }
        Ok(())
    }

    fn unstable(&self, reason: String) -> EnvError {
        EnvError::Simulation {
            env: self.task.id().to_owned(),
            reason,
        }
    }

    fn warning_counts(&self) -> [i32; 3] {
        let w = self.data.warning();
        INSTABILITY.map(|(kind, _)| w[kind as usize].number)
    }

    /// The reward, its terms and `terminated` after a step (each task's `_get_rew` and
    /// termination rule), from the position before and after it.
    fn reward(&mut self, action: &[f32], before: [f64; 2], after: [f64; 2]) -> (f64, bool) {
        let velocity = [
            (after[0] - before[0]) / self.dt,
            (after[1] - before[1]) / self.dt,
        ];
        let qpos = self.data.qpos();
        let qvel = self.data.qvel();
        self.terms.clear();
        match self.task {
            Task::HalfCheetah | Task::Swimmer => {
                let weight = if self.task == Task::Swimmer {
                    1e-4
                } else {
                    0.1
                };
                let forward = 1.0 * velocity[0];
                let ctrl = control_cost_f32(weight, action);
                self.terms.extend([
                    ("reward_forward", forward),
                    ("reward_ctrl", f64::from(-ctrl)),
                ]);
                (forward - f64::from(ctrl), false)
            }
            Task::Hopper | Task::Walker2d => {
                let (z, angle) = (qpos[1], qpos[2]);
                let healthy = if self.task == Task::Hopper {
                    let state_ok = qpos[2..]
                        .iter()
                        .chain(qvel)
                        .all(|&s| -100.0 < s && s < 100.0);
                    state_ok && 0.7 < z && z < f64::INFINITY && -0.2 < angle && angle < 0.2
                } else {
                    0.8 < z && z < 2.0 && -1.0 < angle && angle < 1.0
                };
                let forward = 1.0 * velocity[0];
                let survive = if healthy { 1.0 } else { 0.0 };
                let ctrl = control_cost_f32(1e-3, action);
                self.terms.extend([
                    ("reward_forward", forward),
                    ("reward_ctrl", f64::from(-ctrl)),
                    ("reward_survive", survive),
                ]);
                ((forward + survive) - f64::from(ctrl), !healthy)
            }
            Task::Ant => {
                let z = qpos[2];
                let healthy =
                    qpos.iter().chain(qvel).all(|v| v.is_finite()) && (0.2..=1.0).contains(&z);
                let forces = self.data.cfrc_ext();
                let contact = 5e-4
                    * sum_of_squares(
                        forces.iter().flatten().map(|f| f.clamp(-1.0, 1.0)),
                        &mut self.scratch,
                    );
                let forward = velocity[0] * 1.0;
                let survive = if healthy { 1.0 } else { 0.0 };
                let ctrl = control_cost_f32(0.5, action);
                self.terms.extend([
                    ("reward_forward", forward),
                    ("reward_ctrl", f64::from(-ctrl)),
                    ("reward_contact", -contact),
                    ("reward_survive", survive),
                ]);
                ((forward + survive) - (f64::from(ctrl) + contact), !healthy)
            }
            Task::Humanoid => {
                let z = qpos[2];
                let healthy = 1.0 < z && z < 2.0;
                let ctrl =
                    0.1 * sum_of_squares(self.data.ctrl().iter().copied(), &mut self.scratch);
                let contact = (5e-7
                    * sum_of_squares(
                        self.data.cfrc_ext().iter().flatten().copied(),
                        &mut self.scratch,
                    ))
                .min(10.0);
                let forward = 1.25 * velocity[0];
                let survive = if healthy { 5.0 } else { 0.0 };
                self.terms.extend([
                    ("reward_forward", forward),
                    ("reward_ctrl", -ctrl),
                    ("reward_contact", -contact),
                    ("reward_survive", survive),
                ]);
                ((forward + survive) - (ctrl + contact), !healthy)
            }
            Task::InvertedPendulum => {
                let finite = qpos.iter().chain(qvel).all(|v| v.is_finite());
                let terminated = !finite || qpos[1].abs() > 0.2;
                let reward = if terminated { 0.0 } else { 1.0 };
                self.terms.push(("reward_survive", reward));
                (reward, terminated)
            }
            Task::InvertedDoublePendulum => {
                let site = self.data.site_xpos()[0];
                let (x, y) = (site[0], site[2]);
                let terminated = y <= 1.0;
                let (v1, v2) = (qvel[1], qvel[2]);
                let distance = 0.01 * x.powi(2) + (y - 2.0).powi(2);
                let velocity = 1e-3 * v1.powi(2) + 5e-3 * v2.powi(2);
                let alive = if terminated { 0.0 } else { 10.0 };
                self.terms.extend([
                    ("reward_survive", alive),
                    ("distance_penalty", -distance),
                    ("velocity_penalty", -velocity),
                ]);
                (alive - distance - velocity, terminated)
            }
            Task::Reacher => {
                let (tip, target) = (self.body(0), self.body(1));
                let dist = -norm3([tip[0] - target[0], tip[1] - target[1], tip[2] - target[2]]);
                let ctrl = -control_cost_f32(1.0, action);
                self.terms
                    .extend([("reward_dist", dist), ("reward_ctrl", f64::from(ctrl))]);
                (dist + f64::from(ctrl), false)
            }
            Task::Pusher => {
                let (arm, object, goal) = (self.body(0), self.body(1), self.body(2));
                let near = -norm3(sub3(object, arm)) * 0.5;
                let dist = -norm3(sub3(object, goal)) * 1.0;
                let ctrl = -control_cost_f32(0.1, action);
                self.terms.extend([
                    ("reward_dist", dist),
                    ("reward_ctrl", f64::from(ctrl)),
                    ("reward_near", near),
                ]);
                ((dist + f64::from(ctrl)) + near, false)
            }
        }
    }

    /// Whether this task reads the contact forces (`cfrc_ext`), which need
    /// `mj_rnePostConstraint` after the step (Gymnasium calls it for every task; the others
    /// read nothing it computes).
    fn reads_contact_forces(&self) -> bool {
        matches!(self.task, Task::Ant | Task::Humanoid)
    }
}

/// Frames are Gymnasium's default size.
const FRAME: u32 = 480;

/// The camera of `task`: for the tasks that move away, one that tracks their root body from
/// Gymnasium's distance (from the side; Ant and Swimmer from above); for the others MuJoCo's
/// default free camera at Gymnasium's distance.
fn camera(task: Task, model: &MjModel) -> MjvCamera {
    let (distance, elevation, azimuth) = match task {
        Task::HalfCheetah => (4.0, -20.0, 90.0),
        Task::Hopper | Task::Walker2d => (3.0, -20.0, 90.0),
        Task::Humanoid => (4.0, -20.0, 90.0),
        Task::Ant => (4.0, -45.0, 90.0),
        Task::Swimmer => (2.5, -70.0, 90.0),
        _ => {
            let mut cam = MjvCamera::new_free(model);
            match task {
                Task::InvertedPendulum => cam.distance = 2.04,
                Task::InvertedDoublePendulum => {
                    cam.distance = 4.1225;
                    cam.lookat = [0.0, 0.0, 0.1225];
                }
                Task::Pusher => cam.distance = 4.0,
                _ => {}
            }
            return cam;
        }
    };
    let mut cam = MjvCamera::new_tracking(1);
    cam.distance = distance;
    cam.elevation = elevation;
    cam.azimuth = azimuth;
    cam
}

/// A task's renderer and the scratch `mjData` it draws.
type Offscreen = (Task, MjRenderer, MjData<Arc<MjModel>>);

thread_local! {
    /// One offscreen renderer (an EGL context) and a scratch `mjData` per task and thread: a GL
    /// context belongs to the thread that made it, so it is kept here rather than in the env.
    static RENDERERS: std::cell::RefCell<Vec<Offscreen>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

fn rl_envs_rng(rng: &mut Option<EnvRng>) -> &mut EnvRng {
    rng.get_or_insert_with(EnvRng::from_os_rng)
}

fn sub3(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn norm3(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

fn body_ids(model: &MjModel, task: Task, names: &[&str]) -> Result<Vec<usize>, EnvError> {
    names
        .iter()
        .map(|name| {
            model
                .name_to_id(_mjtObjBase::mjOBJ_BODY, name)
                .ok_or_else(|| {
                    EnvError::InvalidConfig(format!(
                        "{}: the model has no body {name:?}",
                        task.id()
                    ))
                })
        })
        .collect()
}

impl Env for MujocoEnv {
    fn id(&self) -> &str {
        self.task.id()
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        if let Some(seed) = seed {
            self.rng = Some(EnvRng::seed_from_u64(seed));
        }
        self.data.reset();
        let (qpos, qvel) = self.reset_state();
        self.put(&qpos, &qvel);
        self.terms.clear();
        self.started = true;
        Ok(&self.obs)
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        if !self.started {
            return Err(EnvError::ResetNeeded);
        }
        let action = action.expect_continuous(self.task.id(), self.nu)?;
        for (c, a) in self.data.ctrl_mut().iter_mut().zip(action) {
            *c = f64::from(*a);
        }
        let (warnings, t0) = (self.warning_counts(), self.data.time());
        let before = self.position;
        for _ in 0..self.task.frame_skip() {
            self.data.step();
        }
        if self.reads_contact_forces() {
            self.data.rne_post_constraint();
        }
        self.observe();
        self.check_stable(&warnings, t0)?;
        let after = self.read_position();
        let (reward, terminated) = self.reward(action, before, after);
        self.position = after;
        Ok(Step {
            observation: &self.obs,
            reward,
            terminated,
            truncated: false,
        })
    }

    fn state(&self) -> Option<&[f64]> {
        self.started.then_some(self.state.as_slice())
    }

    /// A 480×480 frame from MuJoCo's own offscreen renderer (OpenGL through headless EGL: Mesa's
    /// software renderer does on a machine without a GPU).
    fn render(&self) -> Result<Frame, EnvError> {
        if !self.started {
            return Err(EnvError::ResetNeeded);
        }
        let err = |reason: String| EnvError::Render {
            env: self.task.id().to_owned(),
            reason,
        };
        RENDERERS.with(|cell| {
            let mut list = cell.borrow_mut();
            let slot = match list.iter().position(|(t, _, _)| *t == self.task) {
                Some(i) => i,
                None => {
                    let model = self.data.model_clone();
                    let renderer = MjRenderer::builder()
                        .width(FRAME)
                        .height(FRAME)
                        .rgb(true)
                        .depth(false)
                        .camera(camera(self.task, &model))
                        .build(&model)
                        .map_err(|e| {
                            err(format!(
                                "MuJoCo's offscreen renderer needs OpenGL through EGL (libEGL and Mesa's drivers: Debian's libegl1 and libgl1-mesa-dri): {e}"
                            ))
                        })?;
                    let scratch = MjData::try_new(model)
                        .map_err(|e| err(format!("MuJoCo data: {e}")))?;
                    list.push((self.task, renderer, scratch));
                    list.len() - 1
                }
            };
            let (_, renderer, scratch) = &mut list[slot];
            self.data
                .copy_to(scratch)
                .map_err(|e| err(format!("copying the state: {e}")))?;
            renderer
                .sync_data(scratch)
                .and_then(|()| renderer.render())
                .map_err(|e| err(format!("MuJoCo's offscreen renderer: {e}")))?;
            let rgb = renderer
                .rgb_flat()
                .ok_or_else(|| err("the renderer returned no image".into()))?
                .to_vec();
            Ok(Frame {
                width: FRAME,
                height: FRAME,
                rgb,
            })
        })
    }

    fn set_state(&mut self, state: &[f64]) -> Result<&[f32], EnvError> {
        if !self.started {
            return Err(EnvError::ResetNeeded);
        }
        let invalid = |reason: String| EnvError::InvalidState {
            env: self.task.id().to_owned(),
            reason,
        };
        if state.len() != self.nq + self.nv {
            return Err(invalid(format!(
                "expected {} values (qpos then qvel), got {}",
                self.nq + self.nv,
                state.len()
            )));
        }
        if let Some(i) = state.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!("value {i} is {}", state[i])));
        }
        let (qpos, qvel) = state.split_at(self.nq);
        self.put(qpos, qvel);
        Ok(&self.obs)
    }

    fn snapshot(&self) -> Result<Snapshot, EnvError> {
        let saved = Saved {
            env: self.task.id().to_owned(),
            state: self.data.state(STATE).to_vec(),
            position: self.position,
            obs: self.obs.clone(),
            rng: self.rng.clone(),
            started: self.started,
        };
        serde_json::to_value(saved).map_err(|e| EnvError::Snapshot {
            env: self.task.id().to_owned(),
            reason: e.to_string(),
        })
    }

    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), EnvError> {
        let err = |reason: String| EnvError::Snapshot {
            env: self.task.id().to_owned(),
            reason,
        };
        let saved: Saved =
            serde_json::from_value(snapshot.clone()).map_err(|e| err(e.to_string()))?;
        if saved.env != self.task.id() {
            return Err(err(format!("it was taken from {}", saved.env)));
        }
        if saved.obs.len() != self.obs.len() {
            return Err(err(format!(
                "its observation has {} components, this env's {}",
                saved.obs.len(),
                self.obs.len()
            )));
        }
        if let Some(i) = saved.state.iter().position(|v| !v.is_finite()) {
            return Err(err(format!("state value {i} is not finite")));
        }
        self.data
            .set_state(&saved.state, STATE)
            .map_err(|e| err(format!("MuJoCo state: {e}")))?;
        self.data.forward();
        self.position = saved.position;
        self.obs = saved.obs;
        self.rng = saved.rng;
        self.started = saved.started;
        let (nq, qpos, qvel) = (self.nq, self.data.qpos(), self.data.qvel());
        self.state[..nq].copy_from_slice(qpos);
        self.state[nq..].copy_from_slice(qvel);
        Ok(())
    }
}
