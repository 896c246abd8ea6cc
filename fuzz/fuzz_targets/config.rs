//! Any text given as a config file, a preset table or a `--set` override: a typed error or a
//! config, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = rl_sac::SacConfig::from_toml(text);
    let _ = rl_a2c::A2cConfig::from_toml(text);
    let _ = rl_acer::AcerConfig::from_toml(text);
    if let Ok(file) = rl_runner::ConfigFile::parse(text) {
        let _ = file.run();
        for algo in ["sac", "a2c", "acer"] {
            let _ = file.check_tables(algo);
            let _ = file.algo_text(algo);
        }
    }
    // The same text as one `--set key=value`.
    for algo in ["sac", "a2c", "acer"] {
        let mut file = rl_runner::ConfigFile::empty();
        if file.set(text, algo).is_ok() {
            let _ = file.run();
            let _ = file.algo_text(algo);
        }
    }
});
