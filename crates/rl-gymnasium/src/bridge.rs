//! [`PyEnv`]: one Python Gymnasium environment behind the [`Env`] trait.

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use rl_envs::{Action, BoxSpace, Discrete, Env, EnvError, Frame, Snapshot, Space, Step};

/// A Gymnasium environment made by `gymnasium.make(id)` in the embedded interpreter, as an
/// [`Env`]:
///
/// - spaces: a Box (of any shape, flattened) or Discrete action space, a Box observation space;
///   another space is refused at creation with an error naming it;
/// - `reset(seed)` is Gymnasium's `reset(seed=seed)`; `step` returns Gymnasium's observation
///   (float32; the last one of an episode on truncation too), reward, `terminated` and
///   `truncated`; the time limit is the one `gymnasium.make` applied (`max_episode_steps`);
/// - invalid actions (out of range, wrong length, NaN) are refused before Python sees them; a
///   Python exception is [`EnvError::Backend`] with the exception's type and message;
/// - `render` returns `env.render()` when the env has an `rgb_array` render mode and frames were
///   asked for ([`render_frames`](crate::render_frames)) before the env was made: a render
///   mode slows some envs down (LunarLander steps 3× slower with one);
/// - `snapshot` pickles the env (`pickle.dumps`): exact where the env pickles its state
///   (classic control), and [`EnvError::SnapshotUnsupported`] where it cannot be pickled or
///   pickles only its constructor's arguments (`EzPickle`: Box2D's and MuJoCo's envs);
/// - the interpreter's lock (GIL) is held only while Python is called.
pub struct PyEnv {
    id: String,
    env: Py<PyAny>,
    observation_space: Space,
    action_space: Space,
    obs: Vec<f32>,
    max_episode_steps: Option<usize>,
    renders: bool,
}

impl std::fmt::Debug for PyEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyEnv")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A Python exception as an [`EnvError`] naming the env, with its type and message.
fn backend(env: &str, py: Python<'_>, e: &PyErr) -> EnvError {
    let kind = e
        .get_type(py)
        .name()
        .map_or_else(|_| "Exception".to_owned(), |n| n.to_string());
    // Where it was raised: the last frame of the traceback (an assertion has no message).
    let place = e
        .traceback(py)
        .and_then(|t| t.format().ok())
        .and_then(|t| {
            t.lines()
                .rev()
                .find(|l| l.trim_start().starts_with("File "))
                .map(|l| format!(" ({})", l.trim()))
        })
        .unwrap_or_default();
    EnvError::Backend {
        env: env.to_owned(),
        message: format!("Python raised {kind}: {}{place}", e.value(py)),
    }
}

/// The rl-envs space of a Gymnasium space, or an error naming what is not supported.
fn space(id: &str, what: &str, space: &Bound<'_, PyAny>) -> Result<Space, EnvError> {
    let py = space.py();
    let err = |e: PyErr| backend(id, py, &e);
    let kind = space.get_type().name().map_err(err)?.to_string();
    let refuse = || {
        EnvError::InvalidSpace(format!(
            "{id}: its {what} space is {kind} ({}); the bridge takes Box observations and Box or Discrete actions",
            space.str().map_or_else(|_| "?".into(), |s| s.to_string())
        ))
    };
    match kind.as_str() {
        "Discrete" if what == "action" => {
            let n: usize = space.getattr("n").and_then(|n| n.extract()).map_err(err)?;
            let start: i64 = space
                .getattr("start")
                .and_then(|s| s.extract())
                .map_err(err)?;
            if start != 0 {
                return Err(EnvError::InvalidSpace(format!(
                    "{id}: its action space is Discrete({n}, start={start}); the bridge takes Discrete spaces that start at 0"
                )));
            }
            Ok(Space::Discrete(Discrete::new(n)?))
        }
        "Box" => {
            let flat = |name: &str| -> Result<Vec<f32>, EnvError> {
                let np = py.import("numpy").map_err(err)?;
                let arr = np
                    .call_method1("asarray", (space.getattr(name).map_err(err)?, "float32"))
                    .and_then(|a| a.call_method0("ravel"))
                    .map_err(err)?;
                let arr = arr
                    .cast_into::<PyArray1<f32>>()
                    .map_err(|e| err(e.into()))?;
                Ok(arr
                    .readonly()
                    .as_slice()
                    .map_err(|e| EnvError::InvalidSpace(format!("{id}: {e}")))?
                    .to_vec())
            };
            let (low, high) = (flat("low")?, flat("high")?);
            let dim = low.len();
            Ok(Space::Box(BoxSpace::new(low, high, vec![dim])?))
        }
        _ => Err(refuse()),
    }
}

/// The first `n` values of an observation of any float dtype and shape, as float32.
fn observation(id: &str, obs: &Bound<'_, PyAny>, out: &mut Vec<f32>) -> Result<(), EnvError> {
    let py = obs.py();
    out.clear();
    // The buffer protocol: a copy of a float32 or float64 array without NumPy's borrow tracking
    // (measured the cheaper way on CartPole's 4 values).
    if let Ok(b) = pyo3::buffer::PyBuffer::<f32>::get(obs)
        && let Ok(v) = b.to_vec(py)
    {
        out.extend_from_slice(&v);
        return Ok(());
    }
    if let Ok(b) = pyo3::buffer::PyBuffer::<f64>::get(obs)
        && let Ok(v) = b.to_vec(py)
    {
        out.extend(v.iter().map(|&x| x as f32));
        return Ok(());
    }
    // Anything else array-like (ints, lists): through NumPy.
    let np = py.import("numpy").map_err(|e| backend(id, py, &e))?;
    let arr = np
        .call_method1("asarray", (obs, "float32"))
        .map_err(|e| backend(id, py, &e))?;
    let a = arr
        .extract::<PyReadonlyArrayDyn<'_, f32>>()
        .map_err(|e| backend(id, py, &e.into()))?;
    out.extend(a.as_array().iter().copied());
    Ok(())
}

impl PyEnv {
    /// `gymnasium.make(id)` (with `render_mode="rgb_array"` when the env offers it); `module`
    /// is imported first, for a package that registers its own ids. `name` is the id as the
    /// registry knows it (`gymnasium:…`), for messages.
    pub fn make(name: &str, module: Option<&str>, id: &str) -> Result<Self, EnvError> {
        Python::attach(|py| {
            let err = |e: PyErr| backend(name, py, &e);
            crate::interpreter::prepare(py).map_err(err)?;
            if let Some(m) = module {
                py.import(m).map_err(|e| EnvError::Backend {
                    env: name.to_owned(),
                    message: format!(
                        "cannot import the module {m:?} (install it in the bridge's Python): {}",
                        e.value(py)
                    ),
                })?;
            }
            let gym = py.import("gymnasium").map_err(|e| EnvError::Backend {
                env: name.to_owned(),
                message: format!(
                    "cannot import gymnasium (install it in the bridge's Python, see docs/gymnasium.md): {}",
                    e.value(py)
                ),
            })?;
            let mut env = gym.call_method1("make", (id,)).map_err(err)?;
            let modes: Vec<String> = env
                .getattr("metadata")
                .and_then(|m| m.get_item("render_modes"))
                .and_then(|m| m.extract())
                .unwrap_or_default();
            // A render mode can slow stepping down (LunarLander: 3×), so only when asked for.
            let renders = crate::frames_wanted() && modes.iter().any(|m| m == "rgb_array");
            if renders {
                let _ = env.call_method0("close");
                let kwargs = PyDict::new(py);
                kwargs.set_item("render_mode", "rgb_array").map_err(err)?;
                env = gym.call_method("make", (id,), Some(&kwargs)).map_err(err)?;
            }
            let observation_space = space(
                name,
                "observation",
                &env.getattr("observation_space").map_err(err)?,
            )?;
            let action_space = space(name, "action", &env.getattr("action_space").map_err(err)?)?;
            let max_episode_steps = env
                .getattr("spec")
                .and_then(|s| s.getattr("max_episode_steps"))
                .and_then(|m| m.extract::<Option<usize>>())
                .unwrap_or(None);
            Ok(Self {
                id: name.to_owned(),
                env: env.unbind(),
                observation_space,
                action_space,
                obs: Vec::new(),
                max_episode_steps,
                renders,
            })
        })
    }
}

impl PyEnv {
    /// `env.unwrapped.<name>` as float64 values (a classic-control env's `state`, say): for
    /// comparing a bridged env with a native one.
    pub fn unwrapped_values(&self, name: &str) -> Result<Vec<f64>, EnvError> {
        Python::attach(|py| {
            let err = |e: PyErr| backend(&self.id, py, &e);
            let np = py.import("numpy").map_err(err)?;
            let value = self
                .env
                .bind(py)
                .getattr("unwrapped")
                .and_then(|u| u.getattr(name))
                .map_err(err)?;
            np.call_method1("asarray", (value, "float64"))
                .and_then(|a| a.call_method0("ravel"))
                .and_then(|a| a.call_method0("tolist"))
                .and_then(|a| a.extract())
                .map_err(err)
        })
    }
}

impl Drop for PyEnv {
    fn drop(&mut self) {
        Python::attach(|py| {
            let _ = self.env.bind(py).call_method0("close");
        });
    }
}

impl Env for PyEnv {
    fn id(&self) -> &str {
        &self.id
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let id = &self.id;
        let obs = &mut self.obs;
        Python::attach(|py| {
            let kwargs = PyDict::new(py);
            kwargs
                .set_item("seed", seed)
                .map_err(|e| backend(id, py, &e))?;
            let out = self
                .env
                .bind(py)
                .call_method("reset", (), Some(&kwargs))
                .map_err(|e| backend(id, py, &e))?;
            let first = out.get_item(0).map_err(|e| backend(id, py, &e))?;
            observation(id, &first, obs)
        })?;
        Ok(&self.obs)
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        // Checked here, before Python sees them.
        let dim = self.action_space.flat_dim();
        let discrete = match &self.action_space {
            Space::Discrete(d) => Some(action.expect_discrete(&self.id, d.n())?),
            Space::Box(_) => {
                action.expect_continuous(&self.id, dim)?;
                None
            }
        };
        let id = &self.id;
        let obs = &mut self.obs;
        let (reward, terminated, truncated) = Python::attach(|py| {
            let err = |e: PyErr| backend(id, py, &e);
            let env = self.env.bind(py);
            let out = match (discrete, action) {
                (Some(i), _) => env.call_method1("step", (i,)),
                (None, Action::Continuous(a)) => {
                    env.call_method1("step", (PyArray1::from_slice(py, a),))
                }
                // `expect_continuous` above refused it.
                (None, Action::Discrete(_)) => Err(pyo3::exceptions::PyTypeError::new_err(
                    "a discrete action for a Box action space",
                )),
            }
            .map_err(err)?;
            let (o, reward, terminated, truncated, _info): (
                Bound<'_, PyAny>,
                f64,
                bool,
                bool,
                Bound<'_, PyAny>,
            ) = out.extract().map_err(err)?;
            observation(id, &o, obs)?;
            Ok::<_, EnvError>((reward, terminated, truncated))
        })?;
        Ok(Step {
            observation: &self.obs,
            reward,
            terminated,
            truncated,
        })
    }

    fn max_episode_steps(&self) -> Option<usize> {
        self.max_episode_steps
    }

    fn render(&self) -> Result<Frame, EnvError> {
        if !self.renders {
            return Err(EnvError::RenderUnsupported {
                env: self.id.clone(),
            });
        }
        Python::attach(|py| {
            let err = |e: PyErr| backend(&self.id, py, &e);
            let frame = self.env.bind(py).call_method0("render").map_err(err)?;
            let np = py.import("numpy").map_err(err)?;
            let frame = np
                .call_method1("ascontiguousarray", (frame, "uint8"))
                .map_err(err)?;
            let a = frame
                .extract::<PyReadonlyArrayDyn<'_, u8>>()
                .map_err(|e| err(e.into()))?;
            let shape = a.shape().to_vec();
            if shape.len() != 3 || shape[2] != 3 {
                return Err(EnvError::Render {
                    env: self.id.clone(),
                    reason: format!("render() returned an array of shape {shape:?}, not H×W×3"),
                });
            }
            let rgb = a
                .as_slice()
                .map_err(|e| EnvError::Render {
                    env: self.id.clone(),
                    reason: e.to_string(),
                })?
                .to_vec();
            let dim = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
            Ok(Frame {
                width: dim(shape[1]),
                height: dim(shape[0]),
                rgb,
            })
        })
    }

    fn snapshot(&self) -> Result<Snapshot, EnvError> {
        Python::attach(|py| {
            let unsupported = || EnvError::SnapshotUnsupported {
                env: self.id.clone(),
            };
            // An `EzPickle` env (Box2D's, MuJoCo's) pickles its constructor's arguments, not its
            // state: unpickled, it is a fresh env that was never reset. No snapshot then.
            let ez = py
                .import("gymnasium.utils")
                .and_then(|u| u.getattr("EzPickle"))
                .and_then(|ez| self.env.bind(py).getattr("unwrapped")?.is_instance(&ez))
                .unwrap_or(true);
            if ez {
                return Err(unsupported());
            }
            let pickled = py
                .import("pickle")
                .and_then(|p| p.call_method1("dumps", (self.env.bind(py),)))
                .map_err(|_| EnvError::SnapshotUnsupported {
                    env: self.id.clone(),
                })?;
            let bytes: &[u8] = pickled
                .cast::<PyBytes>()
                .map_err(|e| backend(&self.id, py, &e.into()))?
                .as_bytes();
            Ok(serde_json::json!({
                "env": self.id,
                "obs": self.obs,
                "pickle": hex(bytes),
            }))
        })
    }

    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), EnvError> {
        let bad = |reason: String| EnvError::Snapshot {
            env: self.id.clone(),
            reason,
        };
        if snapshot.get("env").and_then(|v| v.as_str()) != Some(self.id.as_str()) {
            return Err(bad("it was taken from another environment".into()));
        }
        let bytes = snapshot
            .get("pickle")
            .and_then(|v| v.as_str())
            .and_then(unhex)
            .ok_or_else(|| bad("no pickled environment in it".into()))?;
        let obs: Vec<f32> = snapshot
            .get("obs")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| bad("no observation in it".into()))?;
        let env = Python::attach(|py| {
            py.import("pickle")
                .and_then(|p| p.call_method1("loads", (PyBytes::new(py, &bytes),)))
                .map(Bound::unbind)
                .map_err(|e| backend(&self.id, py, &e))
        })?;
        self.env = env;
        self.obs = obs;
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
