"""How the addon's commands share their command line with Odoo's."""


def split_arguments(parser, actions, args):
    """Split a command line into a command's options and Odoo's.

    The action is the first argument that names one of ``actions``. The
    arguments before it, and those after it that the action does not know,
    are Odoo's (``-c``, ``-d``, ``--log-level``...).

    :param parser: the command's ``argparse`` parser, one sub-command per action
    :param list args: the arguments after the command's name
    :return: (namespace with ``action`` and its options, Odoo's arguments)
    :raise SystemExit: on ``--help`` or a wrong command line
    """
    index = next((i for i, arg in enumerate(args) if arg in actions), None)
    if index is None:
        # Prints the help, or that an action is missing, and exits.
        parser.parse_args([arg for arg in args if arg in ("-h", "--help")])
    options, rest = parser.parse_known_args(args[index:])
    return options, args[:index] + rest
