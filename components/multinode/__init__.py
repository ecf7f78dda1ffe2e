"""Multi-node models: a model whose GPUs exceed one instance, served as one LeaderWorkerSet group per replica
(lws.py). Pure builders; components/workload.py hands the Deployment's place to them."""
