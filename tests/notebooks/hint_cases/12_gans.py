"""Wrong answers a student is likely to write for unit 12, and the hint each must get."""

import runpy
from pathlib import Path

# the correct answer cells that each case changes, and _replace, are the mutants file's
_MUTANTS = runpy.run_path(str(Path(__file__).resolve().parents[2] / "grading/mutants/12_gans.py"))
_D_LOSS, _G_LOSS, _STEP = _MUTANTS["_D_LOSS"], _MUTANTS["_G_LOSS"], _MUTANTS["_STEP"]
_replace = _MUTANTS["_replace"]

CASES = {
    # answer cell grade_id -> [(description, full answer-cell source, hint substring), ...]
    "discriminator_loss": [
        (
            "labels swapped (real as 0, generated as 1)",
            """
def discriminator_loss(real_logits, fake_logits):
    n, m = real_logits.shape[0], fake_logits.shape[0]
    loss = np.sum(np.logaddexp(0, real_logits)) / n + np.sum(np.logaddexp(0, -fake_logits)) / m
    return loss, (F.sigmoid(real_logits) / n, -F.sigmoid(-fake_logits) / m)
""",
            "labels are swapped",
        ),
        (
            "one mean over N + M examples",
            """
def discriminator_loss(real_logits, fake_logits):
    total = real_logits.shape[0] + fake_logits.shape[0]
    loss = (np.sum(np.logaddexp(0, -real_logits)) + np.sum(np.logaddexp(0, fake_logits))) / total
    return loss, (-F.sigmoid(-real_logits) / total, F.sigmoid(fake_logits) / total)
""",
            "its own batch",
        ),
        (
            "summed instead of averaged",
            _replace(
                _D_LOSS,
                "/ n + np.sum(np.logaddexp(0, fake_logits)) / m",
                "+ np.sum(np.logaddexp(0, fake_logits))",
            ),
            "you summed",
        ),
        (
            "naive log(sigmoid) overflows at large logits",
            """
def discriminator_loss(real_logits, fake_logits):
    sig = lambda t: 1 / (1 + np.exp(-t))
    loss = -np.mean(np.log(sig(real_logits))) - np.mean(np.log(1 - sig(fake_logits)))
    return loss, (-(1 - sig(real_logits)) / len(real_logits), sig(fake_logits) / len(fake_logits))
""",
            "np.logaddexp(0, t)",
        ),
        (
            "gradients with the wrong sign",
            _replace(
                _D_LOSS,
                "(-F.sigmoid(-real_logits) / n, F.sigmoid(fake_logits) / m)",
                "(F.sigmoid(-real_logits) / n, -F.sigmoid(fake_logits) / m)",
            ),
            "dreal < 0",
        ),
    ],
    "generator_loss": [
        (
            "saturating flag inverted",
            _replace(_G_LOSS, "if saturating:", "if not saturating:"),
            "NON-saturating",
        ),
        (
            "always the non-saturating loss",
            _replace(_G_LOSS, "if saturating:", "if False:"),
            "saturating=True is the minimax loss",
        ),
        (
            "non-saturating gradient with the wrong sign",
            _replace(_G_LOSS, "-F.sigmoid(-fake_logits) / n", "F.sigmoid(-fake_logits) / n"),
            "dfake < 0",
        ),
        (
            "the discriminator's label-0 term for the generator",
            _replace(
                _G_LOSS,
                "np.sum(np.logaddexp(0, -fake_logits)) / n, -F.sigmoid(-fake_logits) / n",
                "np.sum(np.logaddexp(0, fake_logits)) / n, F.sigmoid(fake_logits) / n",
            ),
            "called REAL (label 1)",
        ),
        (
            "naive log(sigmoid) overflows at large logits",
            """
def generator_loss(fake_logits, saturating=False):
    p = 1 / (1 + np.exp(-fake_logits))
    n = fake_logits.shape[0]
    if saturating:
        return np.mean(np.log(1 - p)), -p / n
    return -np.mean(np.log(p)), -(1 - p) / n
""",
            "np.logaddexp(0, t)",
        ),
    ],
    "gan_train_step": [
        (
            "discriminator labels swapped",
            _replace(
                _STEP,
                "d_loss, (d_real, d_fake) = discriminator_loss(real_logits, fake_logits)",
                "d_loss, (d_fake, d_real) = discriminator_loss(fake_logits, real_logits)",
            ),
            "labels are swapped",
        ),
        (
            "discriminator never updated",
            _replace(
                _STEP,
                "        D[name] -= lr_d * (from_real[name] + from_fake[name])",
                "        pass",
            ),
            "D did not change",
        ),
        (
            "generator step through the old discriminator",
            _replace(
                _STEP, "    u_fake, fake_logits = discriminate(fake)\n    g_loss", "    g_loss"
            ),
            "UPDATED discriminator",
        ),
        (
            "generator step also updates the discriminator",
            _replace(
                _STEP,
                "    for name in G:\n",
                "    for name in D:\n        D[name] -= lr_g * d_grads[name]\n    for name in G:\n",
            ),
            "must not change D",
        ),
        (
            "discriminator's loss reaches the generator (not detached)",
            _replace(
                _replace(
                    _STEP,
                    "from_fake, _ = back_through_d(fake, u_fake, d_fake)",
                    "from_fake, dx_d = back_through_d(fake, u_fake, d_fake)",
                ),
                "    da = dx @",
                "    dx = dx + dx_d\n    da = dx @",
            ),
            "must not change G",
        ),
        (
            "gradient ascent on the generator",
            _replace(_STEP, "G[name] -= lr_g * grads[name]", "G[name] += lr_g * grads[name]"),
            "gradient DESCENT",
        ),
        (
            "saturating not passed on",
            _replace(
                _STEP,
                "generator_loss(fake_logits, saturating=saturating)",
                "generator_loss(fake_logits)",
            ),
            "pass saturating on",
        ),
        (
            "forgets tanh' in the generator",
            _replace(_STEP, 'da = dx @ G["W2"].T * (1 - h ** 2)', 'da = dx @ G["W2"].T'),
            "1 - h ** 2",
        ),
    ],
}
