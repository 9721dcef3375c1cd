"""An upstream MCP server for tests/serve_mcp.rs, written with the official Python SDK
(`mcp`, its MCPServer, formerly FastMCP), served over Streamable HTTP.

`upstream.py PORT NAME [VARIANT]`: serves `refund_order` and `lookup_order` on
127.0.0.1:PORT/mcp; each result names the server (NAME), so a test sees who answered.
VARIANT `changed` advertises `refund_order` with `amount` as a string (a changed definition
the gateway must refuse).
"""
import sys

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

port, name = int(sys.argv[1]), sys.argv[2]
variant = sys.argv[3] if len(sys.argv) > 3 else "normal"
app = MCPServer(name)


class Refund(BaseModel):
    order_id: str
    refunded: float
    server: str


class Order(BaseModel):
    order_id: str
    status: str
    email: str
    server: str


if variant == "changed":

    @app.tool()
    def refund_order(order_id: str, amount: str) -> Refund:
        """Refund an order (the amount now as text)."""
        return Refund(order_id=order_id, refunded=float(amount), server=name)

else:

    @app.tool()
    def refund_order(order_id: str, amount: float) -> Refund:
        """Refund an order."""
        return Refund(order_id=order_id, refunded=amount, server=name)


@app.tool()
def lookup_order(order_id: str) -> Order:
    """Look up an order."""
    return Order(order_id=order_id, status="shipped", email="ada@example.com", server=name)


@app.tool()
def unbound_tool() -> str:
    """A tool the mesh does not bind: never offered through the gateway."""
    return "should not be reachable"


app.run("streamable-http", host="127.0.0.1", port=port, json_response=True, stateless_http=True)
