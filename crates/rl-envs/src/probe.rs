//! Probe environments: tiny tasks with known answers, for debugging learners
//! (after Andy Jones, "Debugging RL, Without the Agonizing Pain").
//!
//! Each isolates one thing a learner must get right; run them in order and the first failure points
//! at the broken part. Every probe has a discrete-action version (`Discrete(2)`) and a
//! continuous-action version (`Box[-1, 1]`), a one-component observation in `[-1, 1]`, and episodes
//! of one or two steps that end by termination.
//!
//! | probe | observation | reward | what a correct learner finds |
//! |---|---|---|---|
//! | [`ConstantReward`](Probe::ConstantReward) | 0 | +1, one step | `V(0) = 1` (value loss, reward scale) |
//! | [`ObservationReward`](Probe::ObservationReward) | ±1 at random | = observation, one step | `V(s) = s` (the critic uses its input) |
//! | [`DiscountedTwoStep`](Probe::DiscountedTwoStep) | 0, then 1 | 0, then +1 | `V(0) = γ`, `V(1) = 1` (discounting, bootstrapping, termination) |
//! | [`ActionReward`](Probe::ActionReward) | 0 | discrete: +1 for action 1, −1 for 0; continuous: `−(a − 0.5)²` | action 1 / action 0.5 (policy gradient) |
//! | [`ObservationActionReward`](Probe::ObservationActionReward) | ±1 at random | discrete: +1 if the action is 1 for +1 and 0 for −1, else −1; continuous: `−(a − 0.5 s)²` | action `(s + 1) / 2` / action `0.5 s` (policy uses its input) |
//!
//! [`ProbeEnv::expected_value`] and [`ProbeEnv::optimal_action`] give the answers in code.

use rand::Rng;

use crate::env::snapshot_via_serde;
use crate::rng::{EnvRng, reseed};
use crate::{Action, BoxSpace, Discrete, Env, EnvError, OwnedAction, Space, Step};

/// Which probe task (see the [module docs](self) for the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Probe {
    /// Observation 0, one step, reward +1 whatever the action.
    ConstantReward,
    /// Observation ±1 at random, one step, reward equal to the observation.
    ObservationReward,
    /// Observation 0 then 1, reward 0 then +1, two steps.
    DiscountedTwoStep,
    /// Observation 0, one step, the reward depends on the action only.
    ActionReward,
    /// Observation ±1 at random, one step, the reward depends on action and observation.
    ObservationActionReward,
}

impl Probe {
    /// Every probe, in the order to debug with.
    pub const ALL: [Probe; 5] = [
        Probe::ConstantReward,
        Probe::ObservationReward,
        Probe::DiscountedTwoStep,
        Probe::ActionReward,
        Probe::ObservationActionReward,
    ];

    /// The registry id: `Probe<Name>-v0` (discrete) or `Probe<Name>Continuous-v0`.
    pub fn id(self, continuous: bool) -> &'static str {
        match (self, continuous) {
            (Probe::ConstantReward, false) => "ProbeConstantReward-v0",
            (Probe::ObservationReward, false) => "ProbeObservationReward-v0",
            (Probe::DiscountedTwoStep, false) => "ProbeDiscountedTwoStep-v0",
            (Probe::ActionReward, false) => "ProbeActionReward-v0",
            (Probe::ObservationActionReward, false) => "ProbeObservationActionReward-v0",
            (Probe::ConstantReward, true) => "ProbeConstantRewardContinuous-v0",
            (Probe::ObservationReward, true) => "ProbeObservationRewardContinuous-v0",
            (Probe::DiscountedTwoStep, true) => "ProbeDiscountedTwoStepContinuous-v0",
            (Probe::ActionReward, true) => "ProbeActionRewardContinuous-v0",
            (Probe::ObservationActionReward, true) => "ProbeObservationActionRewardContinuous-v0",
        }
    }

    fn has_random_observation(self) -> bool {
        matches!(
            self,
            Probe::ObservationReward | Probe::ObservationActionReward
        )
    }
}

/// A probe environment: a [`Probe`] task with discrete or continuous actions.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProbeEnv {
    probe: Probe,
    continuous: bool,
    obs: [f32; 1],
    /// Steps taken in the current episode; `None` before the first reset.
    t: Option<usize>,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl ProbeEnv {
    /// The probe with `Discrete(2)` actions (`continuous = false`) or `Box[-1, 1]` actions.
    pub fn new(probe: Probe, continuous: bool) -> Self {
        Self {
            probe,
            continuous,
            obs: [0.0],
            t: None,
            rng: None,
            observation_space: Space::Box(BoxSpace::symmetric(&[1.0])),
            action_space: if continuous {
                Space::Box(BoxSpace::symmetric(&[1.0]))
            } else {
                Space::Discrete(Discrete::constant(2))
            },
        }
    }

    /// Which probe this is.
    pub fn probe(&self) -> Probe {
        self.probe
    }

    /// The value `V(s)` of observation `obs` under an optimal policy with discount `gamma`
    /// (for the continuous action-dependent probes, the value of the optimal deterministic action).
    pub fn expected_value(&self, obs: &[f32], gamma: f64) -> f64 {
        let s = f64::from(obs.first().copied().unwrap_or(0.0));
        match self.probe {
            Probe::ConstantReward => 1.0,
            Probe::ObservationReward => s,
            Probe::DiscountedTwoStep if s > 0.5 => 1.0,
            Probe::DiscountedTwoStep => gamma,
            Probe::ActionReward | Probe::ObservationActionReward => {
                if self.continuous {
                    0.0
                } else {
                    1.0
                }
            }
        }
    }

    /// The action an optimal policy takes in `obs`, or `None` when every action is as good.
    pub fn optimal_action(&self, obs: &[f32]) -> Option<OwnedAction> {
        let s = obs.first().copied().unwrap_or(0.0);
        let target = match self.probe {
            Probe::ActionReward => 0.5,
            Probe::ObservationActionReward => 0.5 * s,
            _ => return None,
        };
        Some(if self.continuous {
            OwnedAction::Continuous(vec![target])
        } else {
            OwnedAction::Discrete(usize::from(target > 0.0))
        })
    }

    /// The action-dependent probes' best action: `0.5` (or `0.5 s`) for continuous actions,
    /// action 1 where that target is positive for discrete ones.
    fn target(&self) -> f64 {
        match self.probe {
            Probe::ObservationActionReward => 0.5 * f64::from(self.obs[0]),
            _ => 0.5,
        }
    }

    fn reward(&self, action: Action<'_>) -> Result<f64, EnvError> {
        // Validate the action whatever the probe; continuous actions are clipped to the box.
        let a = if self.continuous {
            f64::from(action.expect_continuous(self.id(), 1)?[0].clamp(-1.0, 1.0))
        } else {
            action.expect_discrete(self.id(), 2)? as f64
        };
        Ok(match self.probe {
            Probe::ConstantReward => 1.0,
            Probe::ObservationReward => f64::from(self.obs[0]),
            Probe::DiscountedTwoStep => {
                if self.t == Some(0) {
                    0.0
                } else {
                    1.0
                }
            }
            Probe::ActionReward | Probe::ObservationActionReward if self.continuous => {
                -(a - self.target()).powi(2)
            }
            Probe::ActionReward | Probe::ObservationActionReward => {
                if (a == 1.0) == (self.target() > 0.0) {
                    1.0
                } else {
                    -1.0
                }
            }
        })
    }
}

impl Env for ProbeEnv {
    snapshot_via_serde!();

    fn id(&self) -> &str {
        self.probe.id(self.continuous)
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let rng = reseed(&mut self.rng, seed);
        self.obs[0] = if self.probe.has_random_observation() {
            if rng.random::<bool>() { 1.0 } else { -1.0 }
        } else {
            0.0
        };
        self.t = Some(0);
        Ok(&self.obs)
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let t = self.t.ok_or(EnvError::ResetNeeded)?;
        let reward = self.reward(action)?;
        let terminated = !(self.probe == Probe::DiscountedTwoStep && t == 0);
        self.t = Some(t + 1);
        if !terminated {
            self.obs[0] = 1.0;
        }
        Ok(Step {
            observation: &self.obs,
            reward,
            terminated,
            truncated: false,
        })
    }
}
