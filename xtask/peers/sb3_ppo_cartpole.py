"""SB3 PPO on CartPole-v1 with rl-baselines3-zoo's hyperparameters: the peer of
`cargo xtask bench ppo-cartpole --peers` (run by xtask with the anchors' venv, from
../shared/anchors/python, whose `_common` gives the run metadata).

zoo hyperparams/ppo.yml, CartPole-v1: n_envs 8, n_timesteps 1e5, MlpPolicy, n_steps 32,
batch_size 256, gae_lambda 0.8, gamma 0.98, n_epochs 20, ent_coef 0.0, learning_rate lin_0.001,
clip_range lin_0.2; SB3 defaults otherwise. Training env: DummyVecEnv of 8 Monitor-wrapped envs
(make_vec_env, as the zoo). CPU, torch.set_num_threads(THREADS). Final evaluation: 10
deterministic episodes on a separate env. Prints one JSON line with `fps`.
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

sys.path.insert(0, os.getcwd())  # the anchors folder: xtask runs peers from there
from _common import meta_end, meta_start  # noqa: E402

warnings.filterwarnings("ignore")


def linear(initial):
    return lambda progress_remaining: progress_remaining * initial


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timesteps", type=int, default=100_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eval-episodes", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    meta = meta_start()

    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor

    env = make_vec_env("CartPole-v1", n_envs=8, seed=args.seed)
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98,
                n_epochs=20, ent_coef=0.0, learning_rate=linear(1e-3), clip_range=linear(0.2),
                seed=args.seed, device="cpu", verbose=0)
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    train_s = time.perf_counter() - t0

    eval_env = Monitor(gym.make("CartPole-v1"))
    eval_env.reset(seed=args.seed + 1000)
    rets, _ = evaluate_policy(model, eval_env, n_eval_episodes=args.eval_episodes,
                              deterministic=True, return_episode_rewards=True)
    out = {
        "bench": "sb3_ppo_cartpole",
        "seed": args.seed,
        "timesteps_done": int(model.num_timesteps),
        "torch_threads": torch.get_num_threads(),
        "train_wall_s": round(train_s, 2),
        "fps": round(model.num_timesteps / train_s, 1),
        "gradient_updates": int(model._n_updates),
        "eval_mean_return": round(float(np.mean(rets)), 2),
        "eval_returns": [round(float(r), 2) for r in rets],
    }
    out.update(meta_end(meta))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
