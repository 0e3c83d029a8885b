"""How the toxicity commands print an evaluation."""


def _f(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def write_metrics(out, title: str, m: dict) -> None:
    out.write(f"== {title} ({m['rows']} rows)")
    out.write(f"ROC AUC  all {_f(m['auc'])}  en {_f(m['auc_en'])}  fr {_f(m['auc_fr'])}")
    for name in ("review", "hide"):
        t = m[name]
        out.write(f"at {name} threshold {t['threshold']:.2f}: precision {_f(t['precision'])} recall {_f(t['recall'])}")
    out.write(f"hard-negative FPR at review threshold: {_f(m['hard_negative_fpr'])}")
    out.write("category AUC  " + "  ".join(f"{c} {_f(v)}" for c, v in m["category_auc"].items()))
