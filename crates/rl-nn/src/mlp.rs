//! Multi-layer perceptrons with seeded, PyTorch-matching initialization.

use candle_core::{Module, Tensor};
use candle_nn::Linear;
use rl_math::SeededRng;

use crate::{NnError, ParamStore, Result};

/// The nonlinearity between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(x, 0)` (SAC's default).
    Relu,
    /// `tanh(x)` (A2C's default).
    Tanh,
}

impl Activation {
    fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Relu => x.relu()?,
            Activation::Tanh => x.tanh()?,
        })
    }
}

/// How a layer's weights start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// PyTorch's `nn.Linear` default: weight and bias uniform in `±1/sqrt(fan_in)` (SB3's SAC).
    PytorchDefault,
    /// Orthogonal weights with `gain`, zero bias (SB3's A2C and PPO: `√2` hidden, `0.01` policy
    /// head, `1` value head).
    Orthogonal {
        /// Scale of the orthogonal matrix.
        gain: f64,
    },
}

/// One fully connected layer `y = x Wᵀ + b`, its parameters in a [`ParamStore`].
pub fn linear(
    store: &mut ParamStore,
    name: &str,
    in_features: usize,
    out_features: usize,
    init: Init,
    rng: &mut SeededRng,
) -> Result<Linear> {
    if in_features == 0 || out_features == 0 {
        return Err(NnError::Invalid(format!(
            "layer {name:?} would be {in_features} -> {out_features}"
        )));
    }
    let (device, dtype) = (store.device().clone(), store.dtype());
    let (w, b) = match init {
        Init::PytorchDefault => rng.linear_default(in_features, out_features, dtype, &device)?,
        Init::Orthogonal { gain } => (
            rng.orthogonal(out_features, in_features, gain, dtype, &device)?,
            Tensor::zeros(out_features, dtype, &device)?,
        ),
    };
    let w = store.insert(&format!("{name}.weight"), &w)?;
    let b = store.insert(&format!("{name}.bias"), &b)?;
    Ok(Linear::new(
        w.as_tensor().clone(),
        Some(b.as_tensor().clone()),
    ))
}

/// Layers `sizes[0] → sizes[1] → … → sizes[n]`, with `activation` after every hidden layer (and
/// after the last one too when `activate_output`).
#[derive(Debug, Clone)]
pub struct Mlp {
    layers: Vec<Linear>,
    activation: Activation,
    activate_output: bool,
}

impl Mlp {
    /// Builds the layers in `store` as `name.0`, `name.1`, …; hidden layers start with
    /// `hidden_init`, the last with `output_init`.
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        sizes: &[usize],
        activation: Activation,
        activate_output: bool,
        (hidden_init, output_init): (Init, Init),
        rng: &mut SeededRng,
    ) -> Result<Self> {
        if sizes.len() < 2 {
            return Err(NnError::Invalid(format!(
                "network {name:?} needs an input and an output size, got {sizes:?}"
            )));
        }
        let n = sizes.len() - 1;
        let layers = (0..n)
            .map(|i| {
                let init = if i + 1 == n { output_init } else { hidden_init };
                linear(
                    store,
                    &format!("{name}.{i}"),
                    sizes[i],
                    sizes[i + 1],
                    init,
                    rng,
                )
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            layers,
            activation,
            activate_output,
        })
    }

    /// An MLP over parameters already in `store` (`name.0.weight`, `name.0.bias`, `name.1…`), such
    /// as a [`ParamStore::deep_copy`] of the store the network was built in (a target network).
    pub fn bind(
        store: &ParamStore,
        name: &str,
        activation: Activation,
        activate_output: bool,
    ) -> Result<Self> {
        let mut layers = Vec::new();
        while let Some(w) = store.get(&format!("{name}.{}.weight", layers.len())) {
            let b = store
                .get(&format!("{name}.{}.bias", layers.len()))
                .ok_or_else(|| {
                    NnError::Invalid(format!("{name}.{}: weight without bias", layers.len()))
                })?;
            layers.push(Linear::new(
                w.as_tensor().clone(),
                Some(b.as_tensor().clone()),
            ));
        }
        if layers.is_empty() {
            return Err(NnError::Invalid(format!(
                "no layers named {name:?} in the store"
            )));
        }
        Ok(Self {
            layers,
            activation,
            activate_output,
        })
    }

    /// The output for a batch `[B, sizes[0]]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        let n = self.layers.len();
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(&h)?;
            if i + 1 < n || self.activate_output {
                h = self.activation.apply(&h)?;
            }
        }
        Ok(h)
    }
}
