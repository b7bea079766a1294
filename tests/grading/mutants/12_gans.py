"""Plausible wrong answers for unit 12; each must lose its own exercise's points, only those."""

_D_LOSS = """
def discriminator_loss(real_logits, fake_logits):
    n, m = real_logits.shape[0], fake_logits.shape[0]
    loss = np.sum(np.logaddexp(0, -real_logits)) / n + np.sum(np.logaddexp(0, fake_logits)) / m
    return loss, (-F.sigmoid(-real_logits) / n, F.sigmoid(fake_logits) / m)
"""

_G_LOSS = """
def generator_loss(fake_logits, saturating=False):
    n = fake_logits.shape[0]
    if saturating:
        return -np.sum(np.logaddexp(0, fake_logits)) / n, -F.sigmoid(fake_logits) / n
    return np.sum(np.logaddexp(0, -fake_logits)) / n, -F.sigmoid(-fake_logits) / n
"""

_STEP = """
def gan_train_step(G, D, real, z, lr_d, lr_g, saturating=False):
    def discriminate(x):
        u = np.tanh(x @ D["W1"] + D["b1"])
        return u, (u @ D["W2"] + D["b2"])[:, 0]

    def back_through_d(x, u, dlogits):
        dout = dlogits[:, None]
        da = dout @ D["W2"].T * (1 - u ** 2)
        grads = {"W1": x.T @ da, "b1": da.sum(axis=0), "W2": u.T @ dout, "b2": dout.sum(axis=0)}
        return grads, da @ D["W1"].T

    h = np.tanh(z @ G["W1"] + G["b1"])
    fake = h @ G["W2"] + G["b2"]
    u_real, real_logits = discriminate(real)
    u_fake, fake_logits = discriminate(fake)
    d_loss, (d_real, d_fake) = discriminator_loss(real_logits, fake_logits)
    from_real, _ = back_through_d(real, u_real, d_real)
    from_fake, _ = back_through_d(fake, u_fake, d_fake)
    for name in D:
        D[name] -= lr_d * (from_real[name] + from_fake[name])
    u_fake, fake_logits = discriminate(fake)
    g_loss, d_fake = generator_loss(fake_logits, saturating=saturating)
    d_grads, dx = back_through_d(fake, u_fake, d_fake)
    da = dx @ G["W2"].T * (1 - h ** 2)
    grads = {"W1": z.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dx, "b2": dx.sum(axis=0)}
    for name in G:
        G[name] -= lr_g * grads[name]
    return float(d_loss), float(g_loss)
"""


def _replace(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


MUTANTS = {
    "discriminator_loss": {
        "labels swapped (real as 0, generated as 1)": """
def discriminator_loss(real_logits, fake_logits):
    n, m = real_logits.shape[0], fake_logits.shape[0]
    loss = np.sum(np.logaddexp(0, real_logits)) / n + np.sum(np.logaddexp(0, -fake_logits)) / m
    return loss, (F.sigmoid(real_logits) / n, -F.sigmoid(-fake_logits) / m)
""",
        "one mean over N + M examples": """
def discriminator_loss(real_logits, fake_logits):
    total = real_logits.shape[0] + fake_logits.shape[0]
    loss = (np.sum(np.logaddexp(0, -real_logits)) + np.sum(np.logaddexp(0, fake_logits))) / total
    return loss, (-F.sigmoid(-real_logits) / total, F.sigmoid(fake_logits) / total)
""",
        "naive log(sigmoid) overflows at large logits": """
def discriminator_loss(real_logits, fake_logits):
    sig = lambda t: 1 / (1 + np.exp(-t))
    loss = -np.mean(np.log(sig(real_logits))) - np.mean(np.log(1 - sig(fake_logits)))
    return loss, (-(1 - sig(real_logits)) / len(real_logits), sig(fake_logits) / len(fake_logits))
""",
        "gradients with the wrong sign": _replace(
            _D_LOSS,
            "(-F.sigmoid(-real_logits) / n, F.sigmoid(fake_logits) / m)",
            "(F.sigmoid(-real_logits) / n, -F.sigmoid(fake_logits) / m)",
        ),
    },
    "generator_loss": {
        "saturating flag inverted": _replace(_G_LOSS, "if saturating:", "if not saturating:"),
        "always the non-saturating loss": _replace(_G_LOSS, "if saturating:", "if False:"),
        "non-saturating gradient with the wrong sign": _replace(
            _G_LOSS, "-F.sigmoid(-fake_logits) / n", "F.sigmoid(-fake_logits) / n"
        ),
        "the discriminator's label-0 term for the generator": _replace(
            _G_LOSS,
            "np.sum(np.logaddexp(0, -fake_logits)) / n, -F.sigmoid(-fake_logits) / n",
            "np.sum(np.logaddexp(0, fake_logits)) / n, F.sigmoid(fake_logits) / n",
        ),
        "naive log(sigmoid) overflows at large logits": """
def generator_loss(fake_logits, saturating=False):
    p = 1 / (1 + np.exp(-fake_logits))
    n = fake_logits.shape[0]
    if saturating:
        return np.mean(np.log(1 - p)), -p / n
    return -np.mean(np.log(p)), -(1 - p) / n
""",
    },
    "gan_train_step": {
        "discriminator labels swapped": _replace(
            _STEP,
            "d_loss, (d_real, d_fake) = discriminator_loss(real_logits, fake_logits)",
            "d_loss, (d_fake, d_real) = discriminator_loss(fake_logits, real_logits)",
        ),
        "generator step through the old discriminator": _replace(
            _STEP, "    u_fake, fake_logits = discriminate(fake)\n    g_loss", "    g_loss"
        ),
        "generator step also updates the discriminator": _replace(
            _STEP,
            "    for name in G:\n",
            "    for name in D:\n        D[name] -= lr_g * d_grads[name]\n    for name in G:\n",
        ),
        "discriminator's loss reaches the generator (not detached)": _replace(
            _replace(
                _STEP,
                "from_fake, _ = back_through_d(fake, u_fake, d_fake)",
                "from_fake, dx_d = back_through_d(fake, u_fake, d_fake)",
            ),
            "    da = dx @",
            "    dx = dx + dx_d\n    da = dx @",
        ),
        "gradient ascent on the generator": _replace(
            _STEP, "G[name] -= lr_g * grads[name]", "G[name] += lr_g * grads[name]"
        ),
        "saturating not passed on": _replace(
            _STEP,
            "generator_loss(fake_logits, saturating=saturating)",
            "generator_loss(fake_logits)",
        ),
        "forgets tanh' in the generator": _replace(
            _STEP, 'da = dx @ G["W2"].T * (1 - h ** 2)', 'da = dx @ G["W2"].T'
        ),
    },
}
