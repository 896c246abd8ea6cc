"""SB3 PPO on Pendulum-v1 with rl-baselines3-zoo's hyperparameters, trained and then evaluated
like `cargo xtask train ppo --env Pendulum-v1` (10 deterministic episodes at the end): the
side-by-side check of the ppo-pendulum regression row (docs/results.md).

zoo hyperparams/ppo.yml, Pendulum-v1: n_envs 4, n_timesteps 1e5, MlpPolicy, n_steps 1024,
gae_lambda 0.95, gamma 0.9, n_epochs 10, ent_coef 0.0, learning_rate 1e-3, clip_range 0.2,
use_sde True, sde_sample_freq 4; SB3 defaults otherwise (batch_size 64, log_std_init 0).
Run with the anchors' venv from ../shared/anchors/python:

    ~/.cache/rl-anchors-venv/bin/python /path/to/xtask/peers/sb3_ppo_pendulum.py --seed 0

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
    p.add_argument("--timesteps", type=int, default=100_000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-episodes", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    meta = meta_start()

    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor

    env = make_vec_env("Pendulum-v1", n_envs=4, seed=args.seed)
    model = PPO("MlpPolicy", env, n_steps=1024, gae_lambda=0.95, gamma=0.9, n_epochs=10,
                ent_coef=0.0, learning_rate=1e-3, clip_range=0.2, use_sde=True,
                sde_sample_freq=4, seed=args.seed, device="cpu", verbose=0)
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    train_s = time.perf_counter() - t0

    eval_env = Monitor(gym.make("Pendulum-v1"))
    eval_env.reset(seed=args.seed + 1000)
    rets, _ = evaluate_policy(model, eval_env, n_eval_episodes=args.eval_episodes,
                              deterministic=True, return_episode_rewards=True)
    out = {
        "bench": "sb3_ppo_pendulum",
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
