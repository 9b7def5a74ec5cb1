"""The API's routers, one job per module."""
