"""Do two MuJoCo versions step Gymnasium's HalfCheetah-v5 alike? SB3's side-by-side runs (issue 22)
ran in ../shared/anchors/python's venv, Gymnasium 1.4.0 on MuJoCo 4.0.0; ours links MuJoCo 3.17.0,
the version crates/rl-mujoco/tests/fixtures/requirements.txt pins for the parity recordings.

Plays three 1000-step episodes (seeds 0-2) of smooth, partly saturating actions (sinusoids per
actuator plus uniform noise, clipped to the bounds, from numpy's generator seeded 0), prints each
episode's return and saves every observation to OUT (.npy). Run it once with each venv, then
compare the two files with --compare:

    /tmp/mj317/bin/python xtask/peers/mujoco_versions.py --out /tmp/hc-3.17.npy
    ~/.cache/rl-anchors-venv/bin/python xtask/peers/mujoco_versions.py --out /tmp/hc-4.0.npy
    python3 xtask/peers/mujoco_versions.py --compare /tmp/hc-3.17.npy /tmp/hc-4.0.npy

(/tmp/mj317: `python3 -m venv /tmp/mj317 && /tmp/mj317/bin/pip install -r
crates/rl-mujoco/tests/fixtures/requirements.txt`.)
"""
import argparse

import numpy as np


def play(env_id, out):
    import gymnasium as gym
    import mujoco

    rng = np.random.default_rng(0)
    observations = []
    for ep in range(3):
        env = gym.make(env_id)
        obs, _ = env.reset(seed=ep)
        noise = rng.uniform(-1, 1, size=(1000, env.action_space.shape[0]))
        t = np.arange(1000)[:, None]
        actions = np.clip(np.sin(t / 7.0 + np.arange(noise.shape[1])) + 0.3 * noise, -1, 1)
        episode, ret = [obs], 0.0
        for a in actions.astype(np.float32):
            obs, r, term, trunc, _ = env.step(a)
            episode.append(obs)
            ret += r
            if term or trunc:
                break
        observations.append(np.array(episode))
        print(f"MuJoCo {mujoco.__version__} {env_id} seed {ep}: return {float(ret)!r}, {len(episode) - 1} steps")
    np.save(out, np.concatenate(observations))


def compare(a, b):
    a, b = np.load(a), np.load(b)
    if a.shape != b.shape:
        print(f"the episodes end at different steps: {len(a)} vs {len(b)} observations")
    n = min(len(a), len(b))
    d = np.abs(a[:n] - b[:n]).max(axis=1)
    print(f"largest observation difference over the first {n} observations: {d.max():.3g}")
    print(f"observations whose difference exceeds 1e-9: {int((d > 1e-9).sum())}, the first: "
          f"{int(np.argmax(d > 1e-9)) if (d > 1e-9).any() else None}")
    for k in (1, 10, 30, 100, 300):
        if k < n:
            print(f"  difference at observation {k}: {d[k]:.3g}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--env", default="HalfCheetah-v5")
    p.add_argument("--out")
    p.add_argument("--compare", nargs=2)
    args = p.parse_args()
    if args.compare:
        compare(*args.compare)
    else:
        play(args.env, args.out)
