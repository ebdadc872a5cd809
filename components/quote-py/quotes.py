"""The curated quotes: (quote, author, attributed).

`attributed` is True when the words are commonly credited to the author but the original source
is lost or disputed; the panel then says "attributed to". Keep the list at 30 or so: the picker
walks all of them before it repeats (see `app.pick`).
"""

QUOTES = [
    (
        "The first principle is that you must not fool yourself, and you are the easiest "
        "person to fool.",
        "Richard Feynman",
        False,
    ),
    ("All models are wrong, but some are useful.", "George E. P. Box", False),
    (
        "Academic politics are so vicious precisely because the stakes are so small.",
        "Wallace S. Sayre",
        True,
    ),
    (
        "The most exciting phrase to hear in science, the one that heralds new discoveries, "
        "is not 'Eureka!' but 'That's funny...'",
        "Isaac Asimov",
        True,
    ),
    (
        "A new scientific truth does not triumph by convincing its opponents and making them "
        "see the light, but rather because its opponents eventually die.",
        "Max Planck",
        False,
    ),
    (
        "An expert is a person who has made all the mistakes that can be made in a very "
        "narrow field.",
        "Niels Bohr",
        True,
    ),
    (
        "To consult the statistician after an experiment is finished is often merely to ask "
        "him to conduct a post mortem examination. He can perhaps say what the experiment "
        "died of.",
        "Ronald A. Fisher",
        False,
    ),
    (
        "If we knew what it was we were doing, it would not be called research, would it?",
        "Albert Einstein",
        True,
    ),
    (
        "Beware of bugs in the above code; I have only proved it correct, not tried it.",
        "Donald Knuth",
        False,
    ),
    (
        "The difference between \u201csignificant\u201d and \u201cnot significant\u201d is not "
        "itself statistically significant.",
        "Andrew Gelman and Hal Stern",
        False,
    ),
    (
        "I love deadlines. I love the whooshing noise they make as they go by.",
        "Douglas Adams",
        False,
    ),
    ("Prediction is very difficult, especially about the future.", "Niels Bohr", True),
    (
        "Research is what I'm doing when I don't know what I'm doing.",
        "Wernher von Braun",
        True,
    ),
    (
        "There are only two hard things in Computer Science: cache invalidation and naming "
        "things.",
        "Phil Karlton",
        False,
    ),
    (
        "Program testing can be used to show the presence of bugs, but never to show their "
        "absence!",
        "Edsger W. Dijkstra",
        False,
    ),
    (
        "When a measure becomes a target, it ceases to be a good measure.",
        "Marilyn Strathern",
        False,
    ),
    ("Extraordinary claims require extraordinary evidence.", "Carl Sagan", False),
    (
        "If your experiment needs statistics, you ought to have done a better experiment.",
        "Ernest Rutherford",
        True,
    ),
    ("All science is either physics or stamp collecting.", "Ernest Rutherford", True),
    (
        "A mathematician is a device for turning coffee into theorems.",
        "Alfr\u00e9d R\u00e9nyi",
        True,
    ),
    ("The purpose of computing is insight, not numbers.", "Richard Hamming", False),
    (
        "Everything should be made as simple as possible, but not simpler.",
        "Albert Einstein",
        True,
    ),
    ("Premature optimization is the root of all evil.", "Donald Knuth", False),
    (
        "In theory, there is no difference between theory and practice. In practice, there is.",
        "Jan L. A. van de Snepscheut",
        True,
    ),
    ("It is not only not right, it is not even wrong.", "Wolfgang Pauli", True),
    (
        "The good thing about science is that it's true whether or not you believe in it.",
        "Neil deGrasse Tyson",
        False,
    ),
    (
        "I have not failed. I've just found 10,000 ways that won't work.",
        "Thomas Edison",
        True,
    ),
    (
        "The first 90 percent of the code accounts for the first 90 percent of the "
        "development time. The remaining 10 percent of the code accounts for the other "
        "90 percent of the development time.",
        "Tom Cargill",
        False,
    ),
    (
        "I would rather have questions that can't be answered than answers that can't be "
        "questioned.",
        "Richard Feynman",
        True,
    ),
    ("The important thing is not to stop questioning.", "Albert Einstein", False),
]
