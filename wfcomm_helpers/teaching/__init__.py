"""Teaching material the notebooks import by name.

``lesson`` holds the notebooks' small steps; ``seed_mistakes`` and ``seed_stream_tail`` the seed's
wrong designs (workflows registered only where a notebook imports them); ``worker`` and
``worker_process`` the crash demo's second process; ``timeline`` its pictures.
"""
