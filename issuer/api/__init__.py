"""HTTP entry points: parse, call a service, serialize. Nothing imports this package."""
