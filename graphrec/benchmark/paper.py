"""The figures the benchmark prints beside its own: the paper's Table 2 and the authors'
script as measured on this project's machines (`../shared/reference/paper.md`)."""

from __future__ import annotations

#: Table 2 of Chen et al. (2024), DomainNet, mean over 10 repetitions (std where published).
#: Keys are benchmark method keys; values map metric names to (mean, std or None).
PAPER_TABLE: dict[str, tuple[str, dict[str, tuple[float, float | None]]]] = {
    "random": ("Random (paper)", {"avg": (0.27, None), "cold": (-0.01, None),
                                  "0~20%": (0.01, None), "20~40%": (0.10, None),
                                  "40~60%": (0.29, None), "60~80%": (0.56, None)}),
    "mc": ("MC (paper)", {"avg": (0.47, None), "cold": (0.39, None), "0~20%": (0.43, None),
                          "20~40%": (0.32, None), "40~60%": (0.38, None),
                          "60~80%": (0.56, None)}),
    "lr": ("LR (paper)", {"avg": (0.65, None), "cold": (0.56, None), "0~20%": (0.54, None),
                          "20~40%": (0.56, None), "40~60%": (0.65, None),
                          "60~80%": (0.77, None)}),
    "g4trf": ("G4Trf (paper)", {"avg": (0.74, None), "cold": (0.61, None),
                                "0~20%": (0.63, None), "20~40%": (0.68, None),
                                "40~60%": (0.78, None), "60~80%": (0.87, None)}),
    "scg4trf": ("SCG4Trf (paper)", {"avg": (0.76, 0.01), "cold": (0.61, None),
                                    "0~20%": (0.63, None), "20~40%": (0.70, None),
                                    "40~60%": (0.79, None), "60~80%": (0.88, None)}),
}

#: The authors' script run as published (their features, their masks, 10 x 500 epochs) on
#: 2 CPU cores with torch 2.13 and torch-geometric 2.8.1 (`shared/reference/paper.md`): the
#: like-for-like reference. A published figure: no benchmark run measures it again.
AUTHORS_MEASURED: tuple[str, dict[str, tuple[float, float | None]]] = (
    "authors' script (published figure, paper.md; not run here)",
    {"avg": (0.768, 0.009), "cold": (0.610, 0.050), "0~20%": (0.635, None),
     "20~40%": (0.695, None), "40~60%": (0.791, None), "60~80%": (0.876, None),
     "80~100%": (0.945, None)},
)

#: Wall time of that run (10 repetitions x 500 epochs), seconds: the median of 3 runs on an
#: idle machine (41.6-47.8 s), paper.md.
AUTHORS_SECONDS = 44.5

#: The paper's matrix shape: its figures are shown only for a benchmark on that shape.
PAPER_SHAPE = (10, 270)
