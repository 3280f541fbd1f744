"""vae_core: a variational autoencoder with a 2-D latent space for MNIST and Fashion-MNIST.

Data, model, training, evaluation, checkpoints and inference; no user interface.
Run ``python -m vae_core --help`` for the command line.

``import vae_core`` itself is cheap: each name below is imported from its module when first
used (PEP 562), so code that only reads checkpoints (``load_checkpoint``, ``export_decoder``,
the latents) never waits for torch, which ``decode`` and training import. That is how the
app draws its first screen in well under the 2 s torch takes to import.
"""

import importlib

# each public name and its module
_MODULES = {
    "anatomy": ("WalkThrough", "standard_normal", "walk_through"),
    "checkpoint": ("Checkpoint", "Latents", "checkpoint_bytes", "load_checkpoint", "save_checkpoint"),
    "decoder_export": ("DecoderExport", "ExportError", "export_decoder", "read_decoder_export",
                      "run_decoder_export"),
    "data": ("DATASETS", "DATASET_TITLES", "Dataset", "DatasetSpec", "download", "load_dataset"),
    "errors": ("CheckpointError", "ConfigError", "DataError", "ImageError", "VAEError"),
    "generate": ("generate_class", "handwriting_in_every_class", "style_in_every_class"),
    "evaluation": ("evaluate", "image_scores", "iwae_nll", "knn_accuracy", "negative_elbo"),
    "images": ("PALETTE", "gif_bytes", "latent_extent", "png_bytes", "prepare_image", "scatter_image", "tile",
              "upscale"),
    "inference": ("ClassGaussians", "EncodedImage", "decode", "decode_grid", "encode", "encode_image",
                 "fit_class_gaussians", "grid_points", "interpolate", "interpolate_at", "nearest", "sample_class",
                 "sample_posterior", "sample_prior"),
    "config": ("DEFAULT_TEMPERATURE", "VAEConfig", "parse_layer_sizes"),
    "model": ("VAE", "LossTerms", "build_model", "vae_loss"),
    "pipeline": ("evaluated_checkpoint", "load_splits", "train_checkpoint"),
    "room": ("RoomError", "RoomFiles", "RoomManifest", "build_room", "room_points", "room_styles", "safe_room_file",
             "safe_room_id", "write_room"),
    "training": ("TrainConfig", "TrainEvent", "TrainResult", "resolve_device", "train"),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    else:  # a submodule (vae_core.data, ...)
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError:
            raise AttributeError(f"module 'vae_core' has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = sorted(_EXPORTS)
