"""Red-flag symptoms and the safety wording shown wherever a user logs or reads pain.

Red flags are reasons to stop and seek care, not a diagnosis. The list follows common
guidance for low back pain red flags (e.g. NICE guideline NG59, 2016/2020; the
"cauda equina" warning signs): saddle numbness, new bladder or bowel problems,
worsening leg weakness or numbness, fever or unexplained weight loss, severe night
pain, pain after significant trauma.
"""

from __future__ import annotations

RED_FLAGS: dict[str, str] = {
    "saddle-numbness": "New numbness in the saddle area (between the legs, buttocks, inner thighs)",
    "bladder-bowel": "New problems controlling or passing urine, or with the bowel",
    "leg-weakness": "Leg weakness or numbness that is getting worse",
    "fever-weight-loss": "Fever, or weight loss you cannot explain",
    "night-pain": "Severe pain at night that does not ease when you change position",
    "trauma": "Pain that started after a fall, accident or other significant injury",
}

RED_FLAG_MESSAGE = (
    "Stop the exercises and contact a clinician today (your GP, physiotherapist or an "
    "urgent care service). If you cannot pass urine or have numbness between your legs, "
    "seek emergency care now. backcare cannot assess symptoms; it only records them."
)

CONSULT_ADVICE = (
    "Before starting a new exercise programme, check with a healthcare professional "
    "(your GP or a physiotherapist) that it suits you. Stop any exercise that causes "
    "sharp or spreading pain."
)

SUGGESTION_DISCLAIMER = (
    "backcare only suggests: you and your physiotherapist decide what to change."
)

# How each kind of timeline annotation is named wherever annotations are shown.
KIND_LABELS: dict[str, str] = {
    "note": "Note",
    "programme-change": "Programme change",
    "flare-up": "Flare-up",
    "milestone": "Milestone",
}


# ---- caveats shown beside the numbers (analysis methods name them) --------------------------
SELF_REPORT_CAVEAT = (
    "Adherence here is self-reported: people tend to tick off more than they did, so the "
    "true figure is probably lower."
)
ASSOCIATION_CAVEAT = (
    "This is an association in one person's diary, not proof that the exercises changed "
    "the pain: other things (sleep, work, a flare-up settling on its own) move both, "
    "neighbouring weeks are not independent (so the interval is probably too narrow), and both "
    "adherence and pain are self-reported."
)
SESSION_EFFECT_CAVEAT = (
    "Pain after a session is recorded right after exercising; a short-term change says "
    "little about the long-term course. Exercises done together cannot be separated, with "
    "several exercises one interval may miss zero by chance, and exercises with fewer than "
    "5 sessions with both scores are not shown."
)
TREND_CAVEAT = (
    "Pain varies from day to day and often eases on its own over weeks; a change over time "
    "does not show what caused it."
)
