//! Multi-layer perceptrons with seeded, PyTorch-matching initialization.

use candle_core::Tensor;
use rl_math::{SeededRng, matmul};

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
        match self {
            Activation::Relu => crate::ops::relu(x),
            Activation::Tanh => crate::ops::tanh(x),
        }
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

/// A fully connected layer `y = x Wᵀ + b` over a batch `[B, in]` (the weights are tensors of
/// [`Var`](candle_core::Var)s in a [`ParamStore`], or detached copies of them).
#[derive(Debug, Clone)]
pub struct Dense {
    weight: Tensor,
    bias: Tensor,
}

impl Dense {
    /// A layer with `weight` `[out, in]` and `bias` `[out]`.
    pub fn new(weight: Tensor, bias: Tensor) -> Self {
        Self { weight, bias }
    }

    /// `W`, `[out, in]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// `b`, `[out]`.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// `x Wᵀ + b` for `x` of shape `[B, in]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        crate::ops::add_bias(&matmul(x, &self.weight.t()?)?, &self.bias)
    }

    /// `x Wᵀ + b` computed on detached values, recording nothing for autograd.
    pub fn forward_detached(&self, x: &Tensor) -> Result<Tensor> {
        let z = matmul(&x.detach(), &self.weight.detach().t()?)?;
        Ok(z.broadcast_add(&self.bias.detach())?)
    }

    /// The same layer over the same (shared, not copied) weights, detached from autograd: its
    /// output carries gradients to its input but none to its parameters.
    pub fn detached(&self) -> Self {
        Self::new(self.weight.detach(), self.bias.detach())
    }
}

/// One fully connected layer `y = x Wᵀ + b`, its parameters created in a [`ParamStore`].
pub fn linear(
    store: &mut ParamStore,
    name: &str,
    in_features: usize,
    out_features: usize,
    init: Init,
    rng: &mut SeededRng,
) -> Result<Dense> {
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
    Ok(Dense::new(w.as_tensor().clone(), b.as_tensor().clone()))
}

/// What [`Mlp::forward_traced`] keeps for [`Mlp::backward`]: every layer's input and output.
#[derive(Debug, Clone)]
pub struct Trace {
    inputs: Vec<Tensor>,
    outputs: Vec<Tensor>,
}

impl Trace {
    /// The last layer's input: the last hidden layer's activations (the network's input when it
    /// has no hidden layer), `[B, sizes[n − 1]]` — the features a gSDE policy's noise is built on.
    pub fn last_features(&self) -> Option<&Tensor> {
        self.inputs.last()
    }
}

/// Gradients from [`Mlp::backward`].
#[derive(Debug, Clone)]
pub struct MlpGrads {
    /// `∂L/∂x`, if asked for.
    pub input: Option<Tensor>,
    /// `∂L/∂W0, ∂L/∂b0, ∂L/∂W1, …` if asked for (`None` each otherwise).
    pub params: Vec<Option<Tensor>>,
}

/// Layers `sizes[0] → sizes[1] → … → sizes[n]`, with `activation` after every hidden layer (and
/// after the last one too when `activate_output`).
#[derive(Debug, Clone)]
pub struct Mlp {
    layers: Vec<Dense>,
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
            layers.push(Dense::new(w.as_tensor().clone(), b.as_tensor().clone()));
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

    /// The same network over detached weights: its outputs carry gradients to its inputs but
    /// none to its parameters (a critic seen by the actor's loss, a target network).
    pub fn detached(&self) -> Self {
        Self {
            layers: self.layers.iter().map(Dense::detached).collect(),
            activation: self.activation,
            activate_output: self.activate_output,
        }
    }

    /// The output for a batch `[B, sizes[0]]` without autograd (acting, target networks).
    pub fn forward_detached(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_traced(x).map(|(y, _)| y)
    }

    /// The output for a batch `[B, sizes[0]]`, computed without autograd, with what
    /// [`backward`](Self::backward) needs.
    pub fn forward_traced(&self, x: &Tensor) -> Result<(Tensor, Trace)> {
        let n = self.layers.len();
        let mut trace = Trace {
            inputs: Vec::with_capacity(n),
            outputs: Vec::with_capacity(n),
        };
        let mut h = x.detach();
        for (i, layer) in self.layers.iter().enumerate() {
            let z = matmul(&h, &layer.weight.detach().t()?)?;
            let act = (i + 1 < n || self.activate_output).then_some(self.activation);
            let y = crate::ops::bias_activation(z, &layer.bias, act)?;
            trace.inputs.push(h);
            h = y.clone();
            trace.outputs.push(y);
        }
        Ok((h, trace))
    }

    /// The backward pass of [`forward_traced`](Self::forward_traced), written out: from
    /// `grad_output = ∂L/∂y` (`[B, out]`), per layer from the last,
    ///
    /// ```text
    /// g ← g ⊙ σ'(layer output)        (ReLU: y > 0; tanh: 1 − y²)
    /// ∂L/∂W = gᵀ h_in,   ∂L/∂b = 1ᵀ g,   g ← g W
    /// ```
    ///
    /// Returns `∂L/∂x` if `input`, and the parameter gradients if `params` (in the order the
    /// layers' parameters were created: `W0, b0, W1, b1, …`). It computes only what is asked: a
    /// critic seen by the actor's loss needs `∂L/∂x` and no weight gradients, which candle's
    /// autograd would compute anyway. `tests/backward.rs` checks it against autograd.
    pub fn backward(
        &self,
        trace: &Trace,
        grad_output: &Tensor,
        params: bool,
        input: bool,
    ) -> Result<MlpGrads> {
        // The split pass with no layer split: the same products, one after the other.
        self.backward_split(
            trace,
            grad_output,
            params,
            input,
            usize::MAX,
            &crate::Workers::sequential(),
        )
    }

    /// [`backward`](Self::backward) with each layer's two products — the weight gradient
    /// `gᵀ h_in` and the input gradient `g W` — forked on `workers` where both are needed and
    /// the layer is large (at least `min_size` weights). The results are the same, bit for bit: the
    /// two products are independent and each is computed exactly as the sequential pass does.
    pub fn backward_split(
        &self,
        trace: &Trace,
        grad_output: &Tensor,
        params: bool,
        input: bool,
        min_size: usize,
        workers: &crate::Workers,
    ) -> Result<MlpGrads> {
        self.backward_inner(trace, grad_output, None, params, input, min_size, workers)
    }

    /// [`backward_split`](Self::backward_split) for a loss that also reads the last hidden
    /// layer's activations ([`Trace::last_features`]) directly, as a gSDE policy that learns its
    /// noise features does: `grad_features = ∂L/∂z` (`[B, sizes[n − 1]]`) is added to the
    /// gradient that reaches those activations through the output layer. With no hidden layer the
    /// features are the input: `grad_features` adds to `∂L/∂x` (when asked for) and to no
    /// parameter's gradient.
    #[allow(
        clippy::too_many_arguments,
        reason = "backward_split's arguments and the one extra gradient"
    )]
    pub fn backward_with_features(
        &self,
        trace: &Trace,
        grad_output: &Tensor,
        grad_features: &Tensor,
        params: bool,
        input: bool,
        min_size: usize,
        workers: &crate::Workers,
    ) -> Result<MlpGrads> {
        self.backward_inner(
            trace,
            grad_output,
            Some(grad_features),
            params,
            input,
            min_size,
            workers,
        )
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the shared body of the public backward passes"
    )]
    fn backward_inner(
        &self,
        trace: &Trace,
        grad_output: &Tensor,
        grad_features: Option<&Tensor>,
        params: bool,
        input: bool,
        min_size: usize,
        workers: &crate::Workers,
    ) -> Result<MlpGrads> {
        let n = self.layers.len();
        if trace.inputs.len() != n {
            return Err(NnError::Invalid(format!(
                "a trace of {} layers for a network of {n}",
                trace.inputs.len()
            )));
        }
        let mut g = grad_output.detach();
        let mut grads = vec![None; 2 * n];
        for i in (0..n).rev() {
            if i + 1 < n || self.activate_output {
                let y = &trace.outputs[i];
                g = match self.activation {
                    Activation::Relu => crate::ops::relu_backward(&g, y)?,
                    Activation::Tanh => crate::ops::tanh_backward(&g, y)?,
                };
            }
            let layer = &self.layers[i];
            let need_input = i > 0 || input;
            let weight_grads = |g: &Tensor| -> Result<(Tensor, Tensor)> {
                let dw = matmul(&g.t()?, &trace.inputs[i])?;
                let ones = Tensor::ones((1, g.dim(0)?), g.dtype(), g.device())?;
                Ok((dw, matmul(&ones, g)?.squeeze(0)?))
            };
            let input_grad =
                |g: &Tensor| -> Result<Tensor> { Ok(matmul(g, &layer.weight.detach())?) };
            if params && need_input && layer.weight.elem_count() >= min_size {
                let (w, next) = workers.join(|| weight_grads(&g), || input_grad(&g));
                let (dw, db) = w?;
                grads[2 * i] = Some(dw);
                grads[2 * i + 1] = Some(db);
                g = next?;
            } else {
                if params {
                    let (dw, db) = weight_grads(&g)?;
                    grads[2 * i] = Some(dw);
                    grads[2 * i + 1] = Some(db);
                }
                if need_input {
                    g = input_grad(&g)?;
                }
            }
            if i + 1 == n
                && (i > 0 || input)
                && let Some(gf) = grad_features
            {
                // g is now ∂L/∂z through the output layer; the loss's direct term joins it.
                g = (g + gf.detach())?;
            }
        }
        Ok(MlpGrads {
            input: input.then_some(g),
            params: grads,
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

/// A rough upper bound, in bytes, of what training `copies` MLPs of `in_dim` inputs and hidden
/// widths `arch` (plus `out_dim` outputs) on batches of `rows` takes: activations, their
/// gradients and temporaries (three floats per unit and row), and parameters with their gradients
/// and two optimizer moments (four floats each). `None` if it overflows. Learners check it with
/// `rl_math::memory::check_fits` before building anything.
pub fn training_memory(
    rows: usize,
    in_dim: usize,
    arch: &[usize],
    out_dim: usize,
    copies: usize,
) -> Option<u64> {
    let widths: Vec<u64> = std::iter::once(in_dim)
        .chain(arch.iter().copied())
        .chain(std::iter::once(out_dim))
        .map(|w| w as u64)
        .collect();
    let units = widths.iter().try_fold(0u64, |a, &w| a.checked_add(w))?;
    let params = widths.windows(2).try_fold(0u64, |a, w| {
        a.checked_add(w[0].checked_mul(w[1])?.checked_add(w[1])?)
    })?;
    let activations = rl_math::memory::product(&[rows as u64, units, 3, 4])?;
    let weights = rl_math::memory::product(&[params, 4, 4])?;
    activations.checked_add(weights)?.checked_mul(copies as u64)
}
