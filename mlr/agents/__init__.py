"""Agents: IdeaAgent and ExperimentAgent, their prompt templates and output schemas."""
