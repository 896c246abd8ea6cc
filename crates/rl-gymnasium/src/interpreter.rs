//! The embedded interpreter's path: a virtual environment's packages, added once per process.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// Adds the site-packages of the venv `RL_GYMNASIUM_VENV` (else `VIRTUAL_ENV`) names to the
/// interpreter's path, once: the embedded interpreter is the base Python the crate was built
/// against, which does not know a venv by itself. (`PyOnceLock`, not `std::sync::OnceLock`: the
/// setup runs Python, which may hand the interpreter's lock to another thread that then waits
/// here; a `std` lock would deadlock, pyo3's releases the interpreter while it waits.)
pub(crate) fn prepare(py: Python<'_>) -> PyResult<()> {
    static DONE: PyOnceLock<Result<(), String>> = PyOnceLock::new();
    DONE.get_or_init(py, || add_venv(py).map_err(|e| e.to_string()))
        .clone()
        .map_err(pyo3::exceptions::PyRuntimeError::new_err)
}

fn add_venv(py: Python<'_>) -> PyResult<()> {
    let Some(venv) =
        std::env::var_os("RL_GYMNASIUM_VENV").or_else(|| std::env::var_os("VIRTUAL_ENV"))
    else {
        return Ok(());
    };
    let code = c"
import glob, os, site, sys
def add(venv):
    for sp in glob.glob(os.path.join(venv, 'lib', 'python%d.%d' % sys.version_info[:2], 'site-packages')):
        site.addsitedir(sp)
";
    let module = PyModule::from_code(py, code, c"rl_gymnasium_venv.py", c"rl_gymnasium_venv")?;
    module
        .getattr("add")?
        .call1((venv.to_string_lossy().into_owned(),))?;
    Ok(())
}
