"""Benchmarks of the VAE Latent Explorer: training speed, inference, the app in Chromium,
memory and concurrency, each against its goal (issue 5). Run `python -m bench --help`."""
