"""Rewards as separate pieces behind one small interface (`base.Reward`).

    base.py              Reward: reset(), __call__(obs, action, next_obs, info) -> float, verdict
    rule.py              SuccessReward (the env's success flag), TaskReward (the env's own reward)
    human_label.py       HumanLabelReward: a person's success / failure keys; SharedTeleop
    classifier.py        SuccessClassifier (a small CNN, saved with its config), ClassifierReward
    train_classifier.py  labelled frames from buffers and demo files, split by episode, training
    compose.py           WeightedSum of rewards
    wrapper.py           RewardWrapper: a gymnasium env whose reward (and verdict) comes from a Reward
    config.py            a run's `rewards:` list: RewardEntry, the registry REWARDS, register_reward
    entries.py           fleetrl's own entries (success, task, classifier, human_label), each building its reward
    build.py             build_reward(config, teleop): the weighted sum of the entries' rewards
    host.py              RewardHost: the rewards of the run's reward worker, one episode per env worker
    sim_frames.py        labelled frames of a simulated task, for measuring classifiers

Nothing is imported here, so reading a reward config does not load torch.
"""
