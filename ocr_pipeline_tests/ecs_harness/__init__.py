"""Production ECS, locally: moto serves the AWS APIs, the deployment follows ``docs/deploy.md`` (:mod:`.guide`),
:class:`EcsAgent` runs the tasks as processes."""
