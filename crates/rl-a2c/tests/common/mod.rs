//! What the PyTorch/SB3 comparisons (`golden.rs`, `whole_run.rs`) share: reading a fixture the
//! scripts in `tests/fixtures` wrote.

use serde_json::Value;

/// `tests/fixtures/<name>`, parsed.
pub(crate) fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A JSON array of numbers.
pub(crate) fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}
