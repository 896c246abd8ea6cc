//! Wrappers: environments that change another environment's interface or record what it does.
//!
//! Each wraps any [`Env`](crate::Env) (including a [`BoxedEnv`](crate::BoxedEnv)) and is an `Env`
//! itself, so they stack: `RecordEpisodeStatistics::new(RescaleAction::new(make("Pendulum-v1")?)?)`.
//! `inner()` / `inner_mut()` reach the wrapped env.

mod episode_stats;
mod normalize;
mod rescale_action;
mod time_limit;

pub use episode_stats::{EpisodeStats, RecordEpisodeStatistics};
pub use normalize::{NormalizeObservation, RunningMeanStd};
pub use rescale_action::RescaleAction;
pub use time_limit::TimeLimit;

/// Forwards the `Env` methods a wrapper does not change to `self.env`.
macro_rules! forward_env {
    (id) => {
        fn id(&self) -> &str {
            self.env.id()
        }
    };
    (observation_space) => {
        fn observation_space(&self) -> &$crate::Space {
            self.env.observation_space()
        }
    };
    (action_space) => {
        fn action_space(&self) -> &$crate::Space {
            self.env.action_space()
        }
    };
    (state) => {
        fn state(&self) -> Option<&[f64]> {
            self.env.state()
        }
    };
    (set_state) => {
        fn set_state(&mut self, state: &[f64]) -> Result<&[f32], $crate::EnvError> {
            self.env.set_state(state)
        }
    };
    (render) => {
        fn render(&self) -> Result<$crate::Frame, $crate::EnvError> {
            self.env.render()
        }
    };
    (max_episode_steps) => {
        fn max_episode_steps(&self) -> Option<usize> {
            self.env.max_episode_steps()
        }
    };
    ($($name:ident),+ $(,)?) => {
        $($crate::wrappers::forward_env!($name);)+
    };
}
pub(crate) use forward_env;

/// `inner`, `inner_mut` and `into_inner` for a wrapper whose wrapped env is the field `env`.
macro_rules! inner_accessors {
    () => {
        /// The wrapped environment.
        pub fn inner(&self) -> &E {
            &self.env
        }

        /// The wrapped environment, mutably.
        pub fn inner_mut(&mut self) -> &mut E {
            &mut self.env
        }

        /// Unwraps one layer.
        pub fn into_inner(self) -> E {
            self.env
        }
    };
}
pub(crate) use inner_accessors;
