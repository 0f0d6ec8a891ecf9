"""taorl's pieces for verl. Modules that import verl (agent_loop, trainer, main_tao) raise an ImportError
naming this commit when verl is absent; batch, reward and sandbox_client work without it."""

# The verl commit these modules are written against (gpu/VERL_PIN has the details).
VERL_PIN = "volcengine/verl@b178a3cd56f58b2d502255daba591e92833930a7"
