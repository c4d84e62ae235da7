"""The extension deployed the way sites run it: a real JupyterHub with
configurable-http-proxy and single-user servers."""
