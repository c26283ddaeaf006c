"""The OpenAI-compatible gateway: /v1/models and /v1/chat/completions serve catalogue models and saved
policies, and keep a decision log per policy (docs/gateway.md)."""
