//! The ten Gymnasium MuJoCo v5 tasks: ids, registered specs, models and frame skips.

use rl_envs::EnvSpec;

/// A Gymnasium MuJoCo v5 task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Task {
    /// `HalfCheetah-v5`: run forward (6 actuators, 17-dim observation).
    HalfCheetah,
    /// `Hopper-v5`: hop forward without falling (3 actuators, 11-dim observation).
    Hopper,
    /// `Walker2d-v5`: walk forward without falling (6 actuators, 17-dim observation).
    Walker2d,
    /// `Ant-v5`: a quadruped moving forward (8 actuators, 105-dim observation).
    Ant,
    /// `Humanoid-v5`: walk forward without falling (17 actuators, 348-dim observation).
    Humanoid,
    /// `Swimmer-v5`: swim forward in a viscous fluid (2 actuators, 8-dim observation).
    Swimmer,
    /// `InvertedPendulum-v5`: keep a pole up on a cart (1 actuator, 4-dim observation).
    InvertedPendulum,
    /// `InvertedDoublePendulum-v5`: keep a double pole up (1 actuator, 9-dim observation).
    InvertedDoublePendulum,
    /// `Reacher-v5`: bring a two-joint arm's fingertip to a target (2 actuators, 10-dim observation).
    Reacher,
    /// `Pusher-v5`: push an object to a goal with an arm (7 actuators, 23-dim observation).
    Pusher,
}

impl Task {
    /// Every task, in the order Gymnasium's documentation lists them.
    pub const ALL: [Task; 10] = [
        Task::HalfCheetah,
        Task::Hopper,
        Task::Walker2d,
        Task::Ant,
        Task::Humanoid,
        Task::Swimmer,
        Task::InvertedPendulum,
        Task::InvertedDoublePendulum,
        Task::Reacher,
        Task::Pusher,
    ];

    /// The Gymnasium id.
    pub fn id(self) -> &'static str {
        match self {
            Task::HalfCheetah => "HalfCheetah-v5",
            Task::Hopper => "Hopper-v5",
            Task::Walker2d => "Walker2d-v5",
            Task::Ant => "Ant-v5",
            Task::Humanoid => "Humanoid-v5",
            Task::Swimmer => "Swimmer-v5",
            Task::InvertedPendulum => "InvertedPendulum-v5",
            Task::InvertedDoublePendulum => "InvertedDoublePendulum-v5",
            Task::Reacher => "Reacher-v5",
            Task::Pusher => "Pusher-v5",
        }
    }

    /// The task with Gymnasium id `id`, if it is one of these.
    pub fn from_id(id: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.id() == id)
    }

    /// The spec Gymnasium registers: the time limit (1000 steps; Reacher 50, Pusher 100) and the
    /// reward threshold where Gymnasium names one.
    pub fn spec(self) -> EnvSpec {
        let (steps, threshold) = match self {
            Task::HalfCheetah => (1000, Some(4800.0)),
            Task::Hopper => (1000, Some(3800.0)),
            Task::Walker2d => (1000, None),
            Task::Ant => (1000, Some(6000.0)),
            Task::Humanoid => (1000, None),
            Task::Swimmer => (1000, Some(360.0)),
            Task::InvertedPendulum => (1000, Some(950.0)),
            Task::InvertedDoublePendulum => (1000, Some(9100.0)),
            Task::Reacher => (50, Some(-3.75)),
            Task::Pusher => (100, Some(0.0)),
        };
        let spec = EnvSpec::new(self.id()).with_max_episode_steps(steps);
        match threshold {
            Some(t) => spec.with_reward_threshold(t),
            None => spec,
        }
    }

    /// Gymnasium's model of the task (MJCF, from Gymnasium 1.4.0's `envs/mujoco/assets`).
    pub fn xml(self) -> &'static str {
        match self {
            Task::HalfCheetah => include_str!("../assets/half_cheetah.xml"),
            Task::Hopper => include_str!("../assets/hopper.xml"),
            Task::Walker2d => include_str!("../assets/walker2d_v5.xml"),
            Task::Ant => include_str!("../assets/ant.xml"),
            Task::Humanoid => include_str!("../assets/humanoid.xml"),
            Task::Swimmer => include_str!("../assets/swimmer.xml"),
            Task::InvertedPendulum => include_str!("../assets/inverted_pendulum.xml"),
            Task::InvertedDoublePendulum => include_str!("../assets/inverted_double_pendulum.xml"),
            Task::Reacher => include_str!("../assets/reacher.xml"),
            Task::Pusher => include_str!("../assets/pusher_v5.xml"),
        }
    }

    /// MuJoCo steps per environment step (v5's default `frame_skip`).
    pub fn frame_skip(self) -> usize {
        match self {
            Task::HalfCheetah | Task::Ant | Task::Humanoid | Task::InvertedDoublePendulum => 5,
            Task::Pusher => 5,
            Task::Hopper | Task::Walker2d | Task::Swimmer => 4,
            Task::InvertedPendulum | Task::Reacher => 2,
        }
    }
}
