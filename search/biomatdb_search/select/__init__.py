"""Choosing a material: rank the candidates that meet a requirement's constraints by weighted
objectives, with each criterion's contribution and the measurement behind it (docs/selection.md).

``model``: the requirement and the answer, as the API and the CLI type them; ``objectives``: the
objective specs (``max:``, ``min:``, ``match:``); ``method``: the scoring, pure and backend-free;
``presets``: requirements as data; ``service``: runs a requirement through a search backend, so
that every backend ranks alike."""
