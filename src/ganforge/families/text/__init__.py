"""Text generation with GANs, measured honestly against maximum likelihood (SeqGAN, Gumbel-softmax, MLE)."""

from ganforge.families.text.family import TextFamily

FAMILY = TextFamily()
