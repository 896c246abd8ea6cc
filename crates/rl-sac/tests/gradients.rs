//! The update's hand-written gradients equal candle's autograd through the whole graph: for each
//! critic's half of eq. (5), and for eq. (7) through the tanh-Gaussian and both critics.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use candle_core::{DType, Device, Tensor};
use rl_math::SeededRng;
use rl_sac::losses::{actor_loss, critic_loss};
use rl_sac::networks::critic_input;
use rl_sac::{ActionSpec, Sac, SacConfig};

fn close(a: &Tensor, b: &Tensor, what: &str) {
    let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
    let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(a.len(), b.len(), "{what}");
    let scale = b.iter().map(|v| v.abs()).fold(0.0f32, f32::max).max(1e-6);
    for (x, y) in a.iter().zip(&b) {
        assert!(
            (x - y).abs() <= 1e-4 * scale,
            "{what}: {x} vs {y} (scale {scale})"
        );
    }
}

fn agent(parallel: bool) -> Sac {
    let config = SacConfig {
        net_arch: vec![32, 16],
        ..SacConfig::default()
    };
    let mut sac = Sac::new(
        config,
        3,
        ActionSpec::Continuous { dim: 2 },
        &Device::Cpu,
        7,
    )
    .unwrap();
    sac.set_parallel(parallel).unwrap();
    sac
}

#[test]
fn critic_gradients_equal_autograd() {
    for parallel in [false, true] {
        let sac = agent(parallel);
        let mut rng = SeededRng::new(1);
        let obs = rng.normal(&[64, 3], DType::F32, &Device::Cpu).unwrap();
        let act = rng
            .uniform(&[64, 2], -1.0, 1.0, DType::F32, &Device::Cpu)
            .unwrap();
        let y = rng.normal(&[64], DType::F32, &Device::Cpu).unwrap();
        let x = critic_input(&obs, &act).unwrap();

        let halves = sac.critic_gradients(&x, &y).unwrap();
        let (l1, g1) = (halves[0].loss.clone(), halves[0].grads.clone());
        let (l2, g2) = (halves[1].loss.clone(), halves[1].grads.clone());
        let c = sac.critics();
        let q1 = c.forward(0, &x).unwrap().squeeze(1).unwrap();
        let q2 = c.forward(1, &x).unwrap().squeeze(1).unwrap();
        let loss = critic_loss(&q1, &q2, &y).unwrap();
        close(&(l1 + l2).unwrap(), &loss, "J_Q");
        let auto = loss.backward().unwrap();
        let params = sac.params().1.params();
        for ((name, var), g) in params.iter().zip(g1.iter().chain(&g2)) {
            close(g.as_ref().unwrap(), auto.get(var).unwrap(), name);
        }
    }
}

#[test]
fn actor_gradients_equal_autograd_through_both_critics() {
    for parallel in [false, true] {
        let sac = agent(parallel);
        let mut rng = SeededRng::new(2);
        let obs = rng.normal(&[64, 3], DType::F32, &Device::Cpu).unwrap();
        let eps = rng.normal(&[64, 2], DType::F32, &Device::Cpu).unwrap();
        let alpha = 0.3;

        let (loss, grads) = sac.actor_gradients(&obs, &eps, alpha).unwrap();
        let (a, log_prob) = sac
            .actor()
            .unwrap()
            .dist(&obs)
            .unwrap()
            .rsample(&eps)
            .unwrap();
        let x = critic_input(&obs, &a).unwrap();
        let q1 = sac.critics().forward(0, &x).unwrap().squeeze(1).unwrap();
        let q2 = sac.critics().forward(1, &x).unwrap().squeeze(1).unwrap();
        let auto_loss = actor_loss(&log_prob, &q1, &q2, alpha).unwrap();
        assert!((f64::from(auto_loss.to_scalar::<f32>().unwrap()) - loss).abs() < 1e-5);
        let auto = auto_loss.backward().unwrap();
        for ((name, var), g) in sac.params().0.params().iter().zip(&grads) {
            close(g.as_ref().unwrap(), auto.get(var).unwrap(), name);
        }
    }
}

#[test]
fn parallel_and_sequential_updates_are_bit_identical() {
    let mut rng = SeededRng::new(3);
    let mut buf =
        rl_buffer::ReplayBuffer::new(128, 3, rl_buffer::ActionSpec::Continuous { dim: 2 }).unwrap();
    for _ in 0..128 {
        let (o, n, a) = (rng.normal_vec(3), rng.normal_vec(3), rng.normal_vec(2));
        let a: Vec<f32> = a.iter().map(|v| v.tanh()).collect();
        buf.push(rl_buffer::Transition {
            obs: &o,
            action: &a,
            reward: 0.5,
            next_obs: &n,
            terminated: false,
            truncated: false,
        })
        .unwrap();
    }
    let (mut s, mut p) = (agent(false), agent(true));
    for k in 0..5 {
        let batch = buf
            .sample(64, &mut SeededRng::new(k), &Device::Cpu)
            .unwrap();
        assert_eq!(s.update(&batch).unwrap(), p.update(&batch).unwrap());
    }
}

/// Each `*_grad` form in `losses.rs` returns the loss it is named after and that loss's autograd
/// gradient with respect to the network output: what the update differentiates is the written loss.
#[test]
fn the_gradient_forms_of_the_losses_are_their_autograd_gradients() {
    use candle_core::Var;
    use rl_sac::losses::{
        actor_loss_critic_grads, critic_half_loss, critic_half_loss_grad,
        discrete_critic_half_loss_grad, value_loss, value_loss_grad,
    };
    let dev = Device::Cpu;
    let mut rng = SeededRng::new(3);
    let normal =
        |rng: &mut SeededRng, shape: &[usize]| rng.normal(shape, DType::F64, &dev).unwrap();
    let b = 6;
    let y = normal(&mut rng, &[b]);

    // One critic's term of eq. (5), at the critic's output [B, 1].
    let q = Var::from_tensor(&normal(&mut rng, &[b, 1])).unwrap();
    let written = critic_half_loss(&q.squeeze(1).unwrap(), &y).unwrap();
    let auto = written.backward().unwrap().remove(&q).unwrap();
    let formed = critic_half_loss_grad(&q.squeeze(1).unwrap(), &y).unwrap();
    close(
        &formed.loss.to_dtype(DType::F32).unwrap(),
        &written.to_dtype(DType::F32).unwrap(),
        "critic loss",
    );
    close(
        &formed.grad.to_dtype(DType::F32).unwrap(),
        &auto.to_dtype(DType::F32).unwrap(),
        "critic grad",
    );

    // Discrete SAC's critic term, at the critic's whole output [B, |A|].
    let q = Var::from_tensor(&normal(&mut rng, &[b, 3])).unwrap();
    let taken = Tensor::new(
        &[
            [1f64, 0., 0.],
            [0., 1., 0.],
            [0., 0., 1.],
            [1., 0., 0.],
            [0., 0., 1.],
            [0., 1., 0.],
        ],
        &dev,
    )
    .unwrap();
    let q_taken = (q.as_tensor() * &taken).unwrap().sum(1).unwrap();
    let written = critic_half_loss(&q_taken, &y).unwrap();
    let auto = written.backward().unwrap().remove(&q).unwrap();
    let formed = discrete_critic_half_loss_grad(&q_taken, &taken, &y).unwrap();
    close(
        &formed.grad.to_dtype(DType::F32).unwrap(),
        &auto.to_dtype(DType::F32).unwrap(),
        "discrete critic grad",
    );

    // SAC v1's value loss, at the value network's output [B, 1].
    let v = Var::from_tensor(&normal(&mut rng, &[b, 1])).unwrap();
    let (q_min, log_prob) = (normal(&mut rng, &[b]), normal(&mut rng, &[b]));
    let written = value_loss(&v.squeeze(1).unwrap(), &q_min, &log_prob, 0.2).unwrap();
    let auto = written.backward().unwrap().remove(&v).unwrap();
    let formed = value_loss_grad(&v.squeeze(1).unwrap(), &q_min, &log_prob, 0.2).unwrap();
    close(
        &formed.grad.to_dtype(DType::F32).unwrap(),
        &auto.to_dtype(DType::F32).unwrap(),
        "value grad",
    );

    // Eq. (7) with respect to each critic's output at (s, ã).
    let (q1, q2) = (
        Var::from_tensor(&normal(&mut rng, &[b, 1])).unwrap(),
        Var::from_tensor(&normal(&mut rng, &[b, 1])).unwrap(),
    );
    let (s1, s2) = (q1.squeeze(1).unwrap(), q2.squeeze(1).unwrap());
    let written = actor_loss(&log_prob, &s1, &s2, 0.2).unwrap();
    let mut grads = written.backward().unwrap();
    let formed = actor_loss_critic_grads(&[s1, s2]).unwrap();
    for (j, q) in [q1, q2].iter().enumerate() {
        let auto = grads.remove(q).unwrap();
        close(
            &formed[j].to_dtype(DType::F32).unwrap(),
            &auto.to_dtype(DType::F32).unwrap(),
            "actor loss / Q_j",
        );
    }
}
