//! [`ParamStore`]: a network's named parameters, in a fixed order.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};

use crate::{NnError, Result};

/// Named trainable parameters, kept in insertion order (unlike candle's `VarMap`, whose
/// `HashMap` order changes from run to run), so optimizers, checkpoints and Polyak pairs always
/// line up.
#[derive(Debug)]
pub struct ParamStore {
    params: Vec<(String, Var)>,
    device: Device,
    dtype: DType,
}

impl ParamStore {
    /// An empty store whose parameters live on `device` as `dtype`.
    pub fn new(device: &Device, dtype: DType) -> Self {
        Self {
            params: Vec::new(),
            device: device.clone(),
            dtype,
        }
    }

    /// The device parameters live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The parameters' dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Adds a parameter initialized to `init` (converted to the store's device and dtype).
    pub fn insert(&mut self, name: &str, init: &Tensor) -> Result<Var> {
        if self.get(name).is_some() {
            return Err(NnError::Invalid(format!(
                "parameter {name:?} defined twice"
            )));
        }
        let var = Var::from_tensor(&init.to_device(&self.device)?.to_dtype(self.dtype)?)?;
        self.params.push((name.to_owned(), var.clone()));
        Ok(var)
    }

    /// The parameter called `name`.
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every parameter with its name, in insertion order (what optimizers take).
    pub fn params(&self) -> &[(String, Var)] {
        &self.params
    }

    /// Every parameter, in insertion order.
    pub fn vars(&self) -> Vec<Var> {
        self.params.iter().map(|(_, v)| v.clone()).collect()
    }

    /// Number of scalar parameters.
    pub fn num_scalars(&self) -> usize {
        self.params.iter().map(|(_, v)| v.elem_count()).sum()
    }

    /// A new store with the same names and copied values (a target network): the two share nothing.
    pub fn deep_copy(&self) -> Result<Self> {
        let mut copy = Self::new(&self.device, self.dtype);
        for (name, var) in &self.params {
            copy.insert(name, &var.as_tensor().copy()?)?;
        }
        Ok(copy)
    }

    /// Copies of the values, named `prefix` + name (for checkpoints).
    pub fn named_tensors(&self, prefix: &str) -> Result<Vec<(String, Tensor)>> {
        self.params
            .iter()
            .map(|(n, v)| Ok((format!("{prefix}{n}"), v.as_tensor().copy()?)))
            .collect()
    }

    /// Sets every parameter from `tensors[prefix + name]`. Every name must be there with the same
    /// shape; nothing is changed unless all fit.
    pub fn load_named(&self, prefix: &str, tensors: &HashMap<String, Tensor>) -> Result<()> {
        let mut plan = Vec::with_capacity(self.params.len());
        for (name, var) in &self.params {
            let key = format!("{prefix}{name}");
            let t = tensors
                .get(&key)
                .ok_or_else(|| NnError::Mismatch(format!("no tensor {key:?}")))?;
            if t.dims() != var.dims() {
                return Err(NnError::Mismatch(format!(
                    "{key:?} has shape {:?} in the checkpoint but {:?} in this network",
                    t.dims(),
                    var.dims()
                )));
            }
            plan.push((var, t));
        }
        for (var, t) in plan {
            var.set(&t.to_device(&self.device)?.to_dtype(self.dtype)?)?;
        }
        Ok(())
    }
}
