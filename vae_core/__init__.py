"""vae_core: a variational autoencoder with a 2-D latent space for MNIST and Fashion-MNIST.

Data, model, training, evaluation, checkpoints and inference; no user interface.
Run ``python -m vae_core --help`` for the command line.
"""

from .checkpoint import Checkpoint, Latents, checkpoint_bytes, load_checkpoint, save_checkpoint
from .decoder_export import DecoderExport, ExportError, export_decoder, read_decoder_export, run_decoder_export
from .data import DATASETS, Dataset, DatasetSpec, download, load_dataset
from .errors import CheckpointError, ConfigError, DataError, ImageError, VAEError
from .generate import DEFAULT_TEMPERATURE, generate_class, style_in_every_class
from .evaluate import evaluate, image_scores, iwae_nll, knn_accuracy, negative_elbo
from .images import PALETTE, gif_bytes, latent_extent, png_bytes, prepare_image, scatter_image, tile, upscale
from .inference import (ClassGaussians, EncodedImage, decode, decode_grid, encode, encode_image, fit_class_gaussians,
                        grid_points, interpolate, interpolate_at, nearest, sample_class, sample_posterior,
                        sample_prior)
from .model import VAE, LossTerms, VAEConfig, build_model, parse_layer_sizes, vae_loss
from .pipeline import load_splits, package, train_checkpoint
from .train import TrainConfig, TrainEvent, TrainResult, resolve_device, train

__all__ = [
    "Checkpoint", "Latents", "checkpoint_bytes", "load_checkpoint", "save_checkpoint",
    "DecoderExport", "ExportError", "export_decoder", "read_decoder_export", "run_decoder_export",
    "DATASETS", "Dataset", "DatasetSpec", "download", "load_dataset",
    "CheckpointError", "ConfigError", "DataError", "ImageError", "VAEError",
    "DEFAULT_TEMPERATURE", "generate_class", "style_in_every_class",
    "evaluate", "image_scores", "iwae_nll", "knn_accuracy", "negative_elbo",
    "PALETTE", "gif_bytes", "latent_extent", "png_bytes", "prepare_image", "scatter_image", "tile", "upscale",
    "ClassGaussians", "EncodedImage", "decode", "decode_grid", "encode", "encode_image", "fit_class_gaussians",
    "grid_points",
    "interpolate", "interpolate_at", "nearest", "sample_class", "sample_posterior", "sample_prior",
    "VAE", "LossTerms", "VAEConfig", "build_model", "parse_layer_sizes", "vae_loss",
    "load_splits", "package", "train_checkpoint",
    "TrainConfig", "TrainEvent", "TrainResult", "resolve_device", "train",
]
