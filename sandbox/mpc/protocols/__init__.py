"""MPC protocols: imported ONLY inside party processes (they use MPyC).

Each module defines `async def run(mpc, ctx) -> dict` returning {"revealed": ..., "suppressed": [...]}.
`ctx` is a `sandbox.mpc.party.PartyContext`.
"""
