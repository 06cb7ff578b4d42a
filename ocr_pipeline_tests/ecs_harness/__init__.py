"""Production ECS, locally: moto serves ECS/S3/DynamoDB, :class:`EcsAgent` runs the tasks as processes."""
