"""SB3 SAC with gSDE on MountainCarContinuous-v0 with rl-baselines3-zoo's hyperparameters, trained
and then evaluated like `cargo xtask train` (10 deterministic episodes at the end): the reference
for issue 17's SAC MountainCarContinuous target (≥ 90 at 50k), measured before our SAC has gSDE.

zoo hyperparams/sac.yml, MountainCarContinuous-v0: n_timesteps 5e4, MlpPolicy, learning_rate 3e-4,
buffer_size 50000, batch_size 512, ent_coef 0.1, train_freq 32, gradient_steps 32, gamma 0.9999,
tau 0.01, learning_starts 0, use_sde True, policy_kwargs dict(log_std_init=-3.67,
net_arch=[64, 64]). Run with the anchors' venv from ../shared/anchors/python:

    ~/.cache/rl-anchors-venv/bin/python /path/to/xtask/peers/sb3_sac_mountaincarcontinuous.py --seed 0

Prints one JSON line.
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timesteps", type=int, default=50_000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-episodes", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    meta = meta_start()

    from stable_baselines3 import SAC
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor

    env = Monitor(gym.make("MountainCarContinuous-v0"))
    model = SAC("MlpPolicy", env, learning_rate=3e-4, buffer_size=50_000, batch_size=512,
                ent_coef=0.1, train_freq=32, gradient_steps=32, gamma=0.9999, tau=0.01,
                learning_starts=0, use_sde=True,
                policy_kwargs=dict(log_std_init=-3.67, net_arch=[64, 64]),
                seed=args.seed, device="cpu", verbose=0)
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    train_s = time.perf_counter() - t0

    eval_env = Monitor(gym.make("MountainCarContinuous-v0"))
    eval_env.reset(seed=args.seed + 1000)
    rets, _ = evaluate_policy(model, eval_env, n_eval_episodes=args.eval_episodes,
                              deterministic=True, return_episode_rewards=True)
    out = {
        "bench": "sb3_sac_mountaincarcontinuous",
        "seed": args.seed,
        "timesteps_done": int(model.num_timesteps),
        "train_wall_s": round(train_s, 2),
        "fps": round(model.num_timesteps / train_s, 1),
        "eval_mean_return": round(float(np.mean(rets)), 2),
        "eval_returns": [round(float(r), 2) for r in rets],
    }
    out.update(meta_end(meta))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
