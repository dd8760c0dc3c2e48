"""prompt: the model alone, told to answer briefly or abstain."""

from adapt.rungs import Model, Rung, register

register(Rung("prompt", 1, "the model answers from what it already knows", (Model(),),
              default_recipe="prompt-local"))
