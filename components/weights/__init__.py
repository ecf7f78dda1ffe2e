"""How a model's weights reach its server: the fetcher's options (fetch.py) and the shared cache per stack
(cache.py). Pure builders, no Pulumi; components/workload.py and ModelService call them."""
