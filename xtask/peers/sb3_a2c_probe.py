"""SB3's A2C with rl-baselines3-zoo's MuJoCo settings (VecNormalize of observations and rewards,
one env, SB3's A2C defaults: the model xtask/peers/sb3_zoo_run.py --algo a2c trains), printing
every 20k steps the policy's standard deviation per action component and the size of its mean
action on the current observation: what docs/results.md compares with our A2C's `std` column
(metrics/train.csv) when asking whether the two policies narrow alike and push their means past
the action bounds alike. No evaluation, no files. Run from ../shared/anchors/python with its venv:

    ~/.cache/rl-anchors-venv/bin/python /path/to/xtask/peers/sb3_a2c_probe.py --seed 0 --steps 100000
"""
import argparse

import numpy as np
import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--env", default="HalfCheetah-v5")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--every", type=int, default=20_000)
    args = p.parse_args()
    torch.set_num_threads(1)

    from stable_baselines3 import A2C
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    env = VecNormalize(make_vec_env(args.env, n_envs=1, seed=args.seed))
    model = A2C("MlpPolicy", env, seed=args.seed, device="cpu", verbose=0)

    class Probe(BaseCallback):
        def _on_step(self):
            if self.num_timesteps % args.every == 0:
                policy = self.model.policy
                with torch.no_grad():
                    obs = torch.as_tensor(self.locals["new_obs"], dtype=torch.float32)
                    mean = policy.get_distribution(obs).distribution.mean
                    std = torch.exp(policy.log_std).numpy()
                print(
                    f"step {self.num_timesteps}: std {[round(float(x), 3) for x in std]} (mean {std.mean():.3f}), "
                    f"mean action |mu| {float(mean.abs().mean()):.3f}, largest {float(mean.abs().max()):.3f}",
                    flush=True,
                )
            return True

    model.learn(args.steps, callback=Probe())


if __name__ == "__main__":
    main()
