"""Inference routing per stack (``ml-serving:routing``): the Gateway API Inference Extension objects of vLLM models.

``peers`` (who may reach a routed model), ``inference`` (pure builders: InferencePool, endpoint picker, HTTPRoute,
InferenceObjective), ``component`` (the InferenceRouting component that registers them). docs/llm-traffic.md.
"""
