"""SB3 PPO with rl-baselines3-zoo's hyperparameters, trained and then evaluated like `cargo xtask
train ppo --env ENV` (10 deterministic episodes at the end): the side-by-side check of the
ppo-pendulum and ppo-mountaincarcontinuous regression rows (docs/results.md).

zoo hyperparams/ppo.yml (SB3 defaults otherwise):
- Pendulum-v1: n_envs 4, n_timesteps 1e5, MlpPolicy, n_steps 1024, gae_lambda 0.95, gamma 0.9,
  n_epochs 10, ent_coef 0.0, learning_rate 1e-3, clip_range 0.2, use_sde True, sde_sample_freq 4
  (batch_size 64, log_std_init 0).
- MountainCarContinuous-v0: normalize (observations and rewards), n_envs 1, n_timesteps 2e4,
  batch_size 256, n_steps 8, gamma 0.9999, learning_rate 7.77e-5, ent_coef 0.00429, clip_range
  0.1, n_epochs 10, gae_lambda 0.9, max_grad_norm 5, vf_coef 0.19, use_sde True,
  log_std_init -3.29, ortho_init False. The evaluation sees observations normalized with the
  training statistics.
Run with the anchors' venv from ../shared/anchors/python:

    ~/.cache/rl-anchors-venv/bin/python /path/to/xtask/peers/sb3_ppo_zoo.py --env Pendulum-v1 --seed 0

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
    p.add_argument("--env", choices=["Pendulum-v1", "MountainCarContinuous-v0"],
                   default="Pendulum-v1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timesteps", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-episodes", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    meta = meta_start()

    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor

    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    if args.env == "Pendulum-v1":
        timesteps = args.timesteps or 100_000
        env = make_vec_env("Pendulum-v1", n_envs=4, seed=args.seed)
        model = PPO("MlpPolicy", env, n_steps=1024, gae_lambda=0.95, gamma=0.9, n_epochs=10,
                    ent_coef=0.0, learning_rate=1e-3, clip_range=0.2, use_sde=True,
                    sde_sample_freq=4, seed=args.seed, device="cpu", verbose=0)
    else:
        timesteps = args.timesteps or 20_000
        env = VecNormalize(make_vec_env(args.env, n_envs=1, seed=args.seed))
        model = PPO("MlpPolicy", env, batch_size=256, n_steps=8, gamma=0.9999,
                    learning_rate=7.77e-5, ent_coef=0.00429, clip_range=0.1, n_epochs=10,
                    gae_lambda=0.9, max_grad_norm=5.0, vf_coef=0.19, use_sde=True,
                    policy_kwargs=dict(log_std_init=-3.29, ortho_init=False),
                    seed=args.seed, device="cpu", verbose=0)
    t0 = time.perf_counter()
    model.learn(total_timesteps=timesteps)
    train_s = time.perf_counter() - t0

    eval_env = DummyVecEnv([lambda: Monitor(gym.make(args.env))])
    eval_env.seed(args.seed + 1000)
    if isinstance(env, VecNormalize):
        # The training statistics, frozen; returns stay the env's own.
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False)
        eval_env.obs_rms = env.obs_rms
    rets, _ = evaluate_policy(model, eval_env, n_eval_episodes=args.eval_episodes,
                              deterministic=True, return_episode_rewards=True)
    out = {
        "bench": "sb3_ppo_zoo",
        "env": args.env,
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
