"""SB3's SAC or A2C on a Gymnasium task with rl-baselines3-zoo's settings, written as a run folder
that `cargo xtask compare` reads beside ours: the side-by-side runs of issues 22 (MuJoCo) and 19
(Box2D's LunarLander through the Python bridge), with curves.

--algo sac, MuJoCo tasks (HalfCheetah, Hopper, Walker2d, Ant): zoo hyperparams/sac.yml:
MlpPolicy, learning_starts 10000, everything else SB3's defaults (lr 3e-4, net_arch [256, 256],
batch 256, buffer 1e6, tau 0.005, gamma 0.99, train_freq 1, gradient_steps 1, ent_coef 'auto');
the same as ../shared/anchors/python/sb3_sac_mujoco.py.
--algo a2c, MuJoCo tasks: zoo hyperparams/a2c.yml: `normalize: true` (VecNormalize of
observations and rewards), one env, everything else SB3's A2C defaults; evaluations see
observations normalized with the training statistics.
--algo a2c --env LunarLander-v3: zoo a2c.yml for LunarLander-v2: 8 envs, gamma 0.995, n_steps 5,
learning rate lin_0.00083, ent_coef 1e-5 (crates/rl-a2c/configs/gymnasium-lunarlander-v3.toml).
--algo sac --env LunarLanderContinuous-v3: zoo sac.yml for LunarLanderContinuous: learning rate
lin_7.3e-4, net_arch [400, 300], tau 0.01, learning_starts 10000, SB3's defaults otherwise (batch
256, buffer 1e6, gamma 0.99, train_freq 1, gradient_steps 1, ent_coef 'auto')
(crates/rl-sac/configs/gymnasium-lunarlandercontinuous-v3.toml).
LunarLander needs Box2D in the venv (`pip install box2d==2.3.10`, as rl-gymnasium's
requirements.txt pins it).

Both evaluate every --eval-freq steps like `cargo xtask train` (10 deterministic episodes on a
separate env, not counted in the training wall time).

The folder it writes (`--out`): `config.toml` with a `[run]` table (algo "sb3-sac" or "sb3-a2c"),
`metrics/eval.csv` and `metrics/episodes.csv` in the runner's formats, and `result.json` (the
JSON line it prints: final evaluation, training wall time without evaluations, versions, load).
Run it from ../shared/anchors/python with the anchors' venv:

    ~/.cache/rl-anchors-venv/bin/python /path/to/xtask/peers/sb3_zoo_run.py \
        --algo sac --env Hopper-v5 --timesteps 100000 --seed 0 --out runs/sb3-sac-Hopper-v5-seed0
"""
import argparse
import json
import os
import sys
import time
import warnings

import gymnasium as gym
import numpy as np
import torch

sys.path.insert(0, os.getcwd())  # the anchors folder
from _common import meta_end, meta_start  # noqa: E402

warnings.filterwarnings("ignore")


# rl-baselines3-zoo's settings, by (algo, env): n_envs, VecNormalize, and the learner's keyword
# arguments (a learning_rate here is the zoo's lin_<lr>). None as env: the MuJoCo tasks.
ZOO = {
    ("sac", None): dict(n_envs=1, normalize=False, kwargs=dict(learning_starts=10_000)),
    ("a2c", None): dict(n_envs=1, normalize=True, kwargs=dict()),
    ("a2c", "LunarLander-v3"): dict(
        n_envs=8, normalize=False,
        kwargs=dict(gamma=0.995, n_steps=5, learning_rate=0.00083, ent_coef=1e-5)),
    ("sac", "LunarLanderContinuous-v3"): dict(
        n_envs=1, normalize=False,
        kwargs=dict(learning_rate=7.3e-4, tau=0.01, learning_starts=10_000,
                    policy_kwargs=dict(net_arch=[400, 300]))),
}
BOX2D = ("LunarLander", "BipedalWalker", "CarRacing")


def zoo_settings(algo, env):
    """The zoo's settings for algo on env (the MuJoCo entry for any env that is not Box2D's)."""
    key = (algo, env if env.startswith(BOX2D) else None)
    if key not in ZOO:
        sys.exit(f"no zoo settings here for {algo} on {env} (see the docstring)")
    return ZOO[key]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--algo", choices=["sac", "a2c"], default="sac")
    p.add_argument("--env", default="HalfCheetah-v5")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timesteps", type=int, default=100_000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-freq", type=int, default=10_000)
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    settings = zoo_settings(args.algo, args.env)
    torch.set_num_threads(args.threads)
    if os.path.exists(args.out) and os.listdir(args.out):
        sys.exit(f"{args.out} exists and is not empty")
    os.makedirs(os.path.join(args.out, "metrics"), exist_ok=True)
    meta = meta_start()

    from stable_baselines3 import A2C, SAC
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import VecNormalize

    eval_env = Monitor(gym.make(args.env))
    episodes_csv = open(os.path.join(args.out, "metrics", "episodes.csv"), "w")
    episodes_csv.write("step,episode,return,length\n")
    eval_csv = open(os.path.join(args.out, "metrics", "eval.csv"), "w")
    eval_csv.write("step,mean_return,std_return,episodes,returns\n")

    def evaluate(model, step):
        rets = []
        for i in range(args.eval_episodes):
            obs, _ = eval_env.reset(seed=args.seed + 1000 + i)
            done, ret = False, 0.0
            while not done:
                seen = vecnorm.normalize_obs(obs) if vecnorm is not None else obs
                action, _ = model.predict(seen, deterministic=True)
                obs, r, term, trunc, _ = eval_env.step(action)
                ret += float(r)
                done = term or trunc
            rets.append(ret)
        shown = " ".join(f"{r:.3f}" for r in rets)
        eval_csv.write(f"{step},{np.mean(rets)},{np.std(rets)},{len(rets)},{shown}\n")
        eval_csv.flush()
        return rets

    class Log(BaseCallback):
        """Training episodes to episodes.csv; an evaluation every eval_freq steps (timed apart)."""

        def __init__(self):
            super().__init__()
            self.episodes = 0
            self.eval_s = 0.0
            self.rets = []

        def _on_step(self):
            for info in self.locals["infos"]:
                ep = info.get("episode")
                if ep is not None:
                    self.episodes += 1
                    episodes_csv.write(f"{self.num_timesteps},{self.episodes},{ep['r']},{ep['l']}\n")
            # With n envs the step count moves n at a time: evaluate on crossing a multiple.
            if self.num_timesteps // args.eval_freq > (self.num_timesteps - n_envs) // args.eval_freq:
                t = time.perf_counter()
                self.rets = evaluate(self.model, self.num_timesteps)
                self.eval_s += time.perf_counter() - t
            return True

    n_envs = settings["n_envs"]
    env = make_vec_env(args.env, n_envs=n_envs, seed=args.seed)
    vecnorm = None
    if settings["normalize"]:
        env = vecnorm = VecNormalize(env)
    kwargs = dict(settings["kwargs"])
    if "learning_rate" in kwargs:  # the zoo's lin_<lr>: falls linearly to 0 over the run
        from stable_baselines3.common.utils import get_linear_fn

        kwargs["learning_rate"] = get_linear_fn(kwargs["learning_rate"], 0.0, 1.0)
    learner = {"sac": SAC, "a2c": A2C}[args.algo]
    model = learner("MlpPolicy", env, seed=args.seed, device="cpu", verbose=0, **kwargs)
    log = Log()
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.timesteps, callback=log)
    total_s = time.perf_counter() - t0
    episodes_csv.close()
    if args.timesteps % args.eval_freq != 0:
        log.rets = evaluate(model, model.num_timesteps)
    eval_csv.close()

    with open(os.path.join(args.out, "config.toml"), "w") as f:
        f.write(
            f"# Written by xtask/peers/sb3_zoo_run.py: Stable-Baselines3's {args.algo.upper()}, "
            "zoo settings\n"
            f'[run]\nalgo = "sb3-{args.algo}"\nenv = "{args.env}"\nseed = {args.seed}\n'
            f"n_timesteps = {args.timesteps}\neval_freq = {args.eval_freq}\n"
            f"eval_episodes = {args.eval_episodes}\n"
        )
    train_s = total_s - log.eval_s
    out = {
        "bench": "sb3_zoo_run",
        "algo": args.algo,
        "env": args.env,
        "seed": args.seed,
        "timesteps": int(model.num_timesteps),
        "torch_threads": torch.get_num_threads(),
        "train_wall_s": round(train_s, 2),
        "eval_wall_s": round(log.eval_s, 2),
        "fps": round(model.num_timesteps / train_s, 1),
        "eval_mean_return": round(float(np.mean(log.rets)), 2),
        "eval_std_return": round(float(np.std(log.rets)), 2),
        "eval_returns": [round(float(r), 2) for r in log.rets],
    }
    out.update(meta_end(meta))
    with open(os.path.join(args.out, "result.json"), "w") as f:
        f.write(json.dumps(out) + "\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
