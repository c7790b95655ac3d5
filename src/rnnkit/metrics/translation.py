"""Translation metrics with `sacrebleu` (corpus BLEU and chrF), and attention heatmaps.

Scores are computed on detokenized text against the raw references, as sacrebleu expects;
Chinese targets use sacrebleu's ``zh`` tokenizer (each CJK character a token), so their BLEU
is character-level.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.metrics.plotting import headless_pyplot

# sacrebleu tokenizers for BLEU, by the target tokenizer's name; others use sacrebleu's default.
BLEU_TOKENIZERS = {"zh-char": "zh", "jieba": "zh"}
# Fonts with CJK glyphs, tried in order for heatmap labels (the first one installed wins).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "WenQuanYi Zen Hei",
    "SimHei",
    "AR PL UMing CN",
)


def bleu_tokenizer(target_tokenizer: str) -> str:
    """The sacrebleu tokenizer for a target side tokenized by ``target_tokenizer``."""
    return BLEU_TOKENIZERS.get(target_tokenizer, "13a")


def corpus_scores(
    hypotheses: Sequence[str],
    references: Sequence[str],
    tokenize: str = "13a",
    lowercase: bool = False,
) -> dict[str, float]:
    """Corpus BLEU and chrF (0–100) of detokenized hypotheses against one reference each.

    Args:
        tokenize: sacrebleu's BLEU tokenizer (``"13a"``, ``"zh"``, ...).
        lowercase: case-insensitive scores (for models trained on lower-cased targets).
    """
    import sacrebleu

    if len(hypotheses) != len(references):
        raise ConfigError(
            f"hypotheses and references: expected equal counts, got {len(hypotheses)} "
            f"and {len(references)}"
        )
    if not hypotheses:
        return {"bleu": 0.0, "chrf": 0.0}
    bleu = sacrebleu.metrics.BLEU(tokenize=tokenize, lowercase=lowercase)
    chrf = sacrebleu.metrics.CHRF(lowercase=lowercase)
    refs = [list(references)]
    return {
        "bleu": float(bleu.corpus_score(list(hypotheses), refs).score),
        "chrf": float(chrf.corpus_score(list(hypotheses), refs).score),
    }


def save_attention_png(
    weights: np.ndarray | Sequence[Sequence[float]],
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    path: str | Path,
) -> Path:
    """Draws attention weights (rows: target tokens, columns: source tokens) to a PNG file."""
    # Opens like the confusion matrix of metrics/classification.py (a checked matrix, then a
    # heatmap); the checks, fonts and axes differ, so each plot keeps its own.
    plt = headless_pyplot()
    from matplotlib import font_manager

    matrix = np.asarray(weights, dtype=np.float64)
    if matrix.shape != (len(target_tokens), len(source_tokens)):
        raise ConfigError(
            f"weights: expected shape ({len(target_tokens)}, {len(source_tokens)}) "
            f"(target tokens, source tokens), got {matrix.shape}"
        )
    installed = {font.name for font in font_manager.fontManager.ttflist}
    fonts = [name for name in CJK_FONTS if name in installed] + ["DejaVu Sans"]
    width = max(4.0, 0.45 * len(source_tokens) + 2)
    height = max(3.0, 0.4 * len(target_tokens) + 1.5)
    with plt.rc_context({"font.family": fonts}), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # missing CJK glyphs without a CJK font
        figure, axes = plt.subplots(figsize=(width, height))
        axes.imshow(matrix, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
        axes.set_xticks(range(len(source_tokens)), labels=list(source_tokens), rotation=60)
        axes.set_yticks(range(len(target_tokens)), labels=list(target_tokens))
        axes.set_xlabel("source")
        axes.set_ylabel("translation")
        figure.tight_layout()
        path = Path(path)
        figure.savefig(path, dpi=100)
        plt.close(figure)
    return path
