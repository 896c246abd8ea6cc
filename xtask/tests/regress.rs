//! `cargo xtask regress --shard I/N` then `regress merge`: the joined slices are the report an
//! unsharded run writes (every number but the timings), verdicts included.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Two short rows (one that passes, one whose threshold no run reaches) over five seeds.
const TABLE: &str = r#"
[[run]]
name = "tiny-a2c"
tiers = ["full"]
algo = "a2c"
env = "CartPole-v1"
steps = 1_600
seeds = [0, 1, 2]
threshold = 5.0
set = ["run.eval_freq=800", "run.eval_episodes=2"]
source = "test"

[[run]]
name = "tiny-acer"
tiers = ["full"]
algo = "acer"
env = "CartPole-v1"
steps = 1_600
seeds = [3, 4]
threshold = 1e6
set = ["run.eval_freq=800", "run.eval_episodes=2"]
source = "test"
"#;

fn regress(args: &[&str], table: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("regress")
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--table")
        .arg(table)
        .output()
        .unwrap()
}

/// `cargo xtask regress merge REPORTS... --out OUT`.
fn merge<P: AsRef<std::ffi::OsStr>>(reports: &[P], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["regress", "merge"])
        .args(reports)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// `cargo xtask regress merge REPORTS... --table TABLE --out OUT`: judged by `table`'s criteria.
fn merge_by<P: AsRef<std::ffi::OsStr>>(table: &Path, reports: &[P], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["regress", "merge"])
        .args(reports)
        .arg("--table")
        .arg(table)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// The report without what depends on the clock.
fn numbers(path: &Path) -> Value {
    let mut report: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    report["started"] = Value::Null;
    report["wall_seconds"] = Value::Null;
    for run in report["runs"].as_array_mut().unwrap() {
        for seed in run["seeds"].as_array_mut().unwrap() {
            seed["wall_seconds"] = Value::Null;
        }
    }
    report
}

#[test]
fn merged_shards_are_the_unsharded_report() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("table.toml");
    std::fs::write(&table, TABLE).unwrap();

    let whole = regress(&["--tier", "full"], &table, &dir.path().join("whole"));
    let stderr = String::from_utf8_lossy(&whole.stderr);
    assert!(!whole.status.success(), "tiny-acer cannot pass: {stderr}");
    assert!(
        stderr.contains("regression tier full failed: tiny-acer"),
        "{stderr}"
    );

    let mut parts = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let out = dir.path().join(format!("shard-{}", &shard[..1]));
        let run = regress(&["--tier", "full", "--shard", shard], &table, &out);
        assert!(
            run.status.success(),
            "a shard is not judged: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let part = numbers(&out.join("report.json"));
        assert_eq!(part["shard"], shard);
        assert_eq!(part["passed"], Value::Null);
        parts.push(out.join("report.json"));
    }

    // The slices in any order.
    let merged_dir = dir.path().join("merged");
    let merged = merge(&[&parts[2], &parts[0], &parts[1]], &merged_dir);
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert!(!merged.status.success(), "{stderr}");
    assert!(
        stderr.contains("regression tier full failed: tiny-acer"),
        "{stderr}"
    );

    let whole = numbers(&dir.path().join("whole/report.json"));
    assert_eq!(numbers(&merged_dir.join("report.json")), whole);
    assert_eq!(whole["runs"][0]["verdict"]["passed"], true);
    assert_eq!(whole["runs"][0]["seeds"].as_array().unwrap().len(), 3);
    assert!(merged_dir.join("curves.png").is_file());
    // The report names the machine that trained it (its SIMD level moves the runs' last bits).
    let machines = whole["machines"].as_array().unwrap();
    assert_eq!(machines.len(), 1);
    assert!(
        machines[0].as_str().unwrap().contains(" thread"),
        "{machines:?}"
    );

    assert_eq!(whole["commits"].as_array().unwrap().len(), 1);

    // Shards trained on two kinds of machine, with a row's documentation edited in between: the
    // merged report lists both machines and keeps the first report's source.
    let mut elsewhere: Value =
        serde_json::from_str(&std::fs::read_to_string(&parts[1]).unwrap()).unwrap();
    elsewhere["machines"] = serde_json::json!(["another CPU, 8 threads, x86_64 with AVX-512"]);
    elsewhere["runs"][0]["source"] = serde_json::json!("reworded");
    elsewhere["commits"] = serde_json::json!(["0000000"]);
    let moved = dir.path().join("elsewhere.json");
    std::fs::write(&moved, elsewhere.to_string()).unwrap();
    let mixed_dir = dir.path().join("mixed");
    let merged = merge(&[&parts[0], &moved, &parts[2]], &mixed_dir);
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert!(mixed_dir.join("report.json").is_file(), "{stderr}");
    // Two commits are listed, and the merge warns that they are one run only if no learner changed.
    assert!(stderr.contains("trained at 2 commits"), "{stderr}");
    let mixed = numbers(&mixed_dir.join("report.json"));
    assert_eq!(
        mixed["machines"],
        serde_json::json!([machines[0], "another CPU, 8 threads, x86_64 with AVX-512"])
    );
    assert_eq!(mixed["runs"][0]["source"], whole["runs"][0]["source"]);
    let md = std::fs::read_to_string(mixed_dir.join("report.md")).unwrap();
    assert!(md.contains("another CPU, 8 threads"), "{md}");

    // Reports written before machines, commits, presets and overrides were recorded still merge,
    // and the merged report says what they lack.
    let old_paths: Vec<_> = parts
        .iter()
        .enumerate()
        .map(|(k, part)| {
            let mut old: Value =
                serde_json::from_str(&std::fs::read_to_string(part).unwrap()).unwrap();
            for key in ["machines", "commits"] {
                old.as_object_mut().unwrap().remove(key);
            }
            for run in old["runs"].as_array_mut().unwrap() {
                let run = run.as_object_mut().unwrap();
                run.remove("preset");
                run.remove("set");
            }
            let path = dir.path().join(format!("old-{k}.json"));
            std::fs::write(&path, old.to_string()).unwrap();
            path
        })
        .collect();
    let old_dir = dir.path().join("old");
    let merged = merge(&old_paths, &old_dir);
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert!(old_dir.join("report.json").is_file(), "{stderr}");
    let machines = numbers(&old_dir.join("report.json"))["machines"].to_string();
    assert!(
        machines.contains("not recorded (") && machines.contains("old-2.json"),
        "{machines}"
    );

    // A shard whose row trained something else (another override, another preset) is refused.
    for (key, value) in [
        ("set", serde_json::json!(["learning_rate=1.0"])),
        ("preset", serde_json::json!("CartPole-v1")),
    ] {
        let mut other = elsewhere.clone();
        other["runs"][0][key] = value;
        std::fs::write(&moved, other.to_string()).unwrap();
        let refused = merge(
            &[&parts[0], &moved, &parts[2]],
            &dir.path().join(format!("other-{key}")),
        );
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success());
        assert!(
            stderr.contains("differs from the same row"),
            "{key}: {stderr}"
        );
    }

    // A shard judged by another threshold (the table's row changed after it ran) is refused
    // unless the merge judges by a table; then every row takes that table's criteria and source.
    let mut rejudged: Value =
        serde_json::from_str(&std::fs::read_to_string(&parts[1]).unwrap()).unwrap();
    rejudged["runs"][1]["threshold"] = serde_json::json!(-1e9);
    rejudged["runs"][1]["need"] = serde_json::json!(1);
    let earlier = dir.path().join("earlier-criteria.json");
    std::fs::write(&earlier, rejudged.to_string()).unwrap();
    let refused = merge(
        &[&parts[0], &earlier, &parts[2]],
        &dir.path().join("criteria"),
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("judged by another threshold, need or tolerance")
            && stderr.contains("--table"),
        "{stderr}"
    );
    let eased = dir.path().join("eased.toml");
    std::fs::write(
        &eased,
        TABLE
            .replace("threshold = 1e6", "threshold = -1e9\nneed = 1")
            .replace("source = \"test\"\n\n", "source = \"eased\"\n\n"),
    )
    .unwrap();
    let judged_dir = dir.path().join("judged");
    let judged = merge_by(&eased, &[&parts[0], &earlier, &parts[2]], &judged_dir);
    let stderr = String::from_utf8_lossy(&judged.stderr);
    assert!(judged.status.success(), "{stderr}");
    let report = numbers(&judged_dir.join("report.json"));
    assert_eq!(report["passed"], true);
    assert_eq!(report["runs"][1]["threshold"], -1e9);
    assert_eq!(report["runs"][1]["need"], 1);
    assert_eq!(report["runs"][1]["verdict"]["seeds_needed"], 1);
    assert_eq!(report["runs"][0]["source"], "eased");
    assert_eq!(report["criteria_from"], eased.display().to_string());
    // The seeds and their returns are the shards' own.
    assert_eq!(report["runs"][1]["seeds"], whole["runs"][1]["seeds"]);
    let md = std::fs::read_to_string(judged_dir.join("report.md")).unwrap();
    assert!(md.contains("at merge time"), "{md}");
    // A table whose row trains something else, that lacks a row, or that has a row of the tier
    // no shard trained cannot judge these shards.
    for (name, text, says) in [
        (
            "longer",
            TABLE.replace(
                "steps = 1_600\nseeds = [3, 4]",
                "steps = 3_200\nseeds = [3, 4]",
            ),
            "trains something else",
        ),
        (
            "fewer",
            TABLE[..TABLE.find("[[run]]\nname = \"tiny-acer\"").unwrap()].to_string(),
            "is not in",
        ),
        (
            "more",
            format!("{TABLE}\n{}", TABLE.replace("tiny-", "extra-")),
            "is in none of the reports",
        ),
    ] {
        let other = dir.path().join(format!("{name}.toml"));
        std::fs::write(&other, text).unwrap();
        let refused = merge_by(&other, &parts, &dir.path().join(name));
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success());
        assert!(stderr.contains(says), "{name}: {stderr}");
    }

    // A missing slice, or one given twice, is an error that says so.
    let missing = merge(&[&parts[0], &parts[1]], &dir.path().join("missing"));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("no report has seeds"), "{stderr}");
    let twice = merge(
        &[&parts[0], &parts[1], &parts[2], &parts[0]],
        &dir.path().join("twice"),
    );
    let stderr = String::from_utf8_lossy(&twice.stderr);
    assert!(stderr.contains("is in two reports"), "{stderr}");
}
