"""The proctors' web face: Flask Blueprints for pages and the ``/proctor`` Socket.IO namespace.

Each blueprint is made by a function that receives the services its routes use; none imports the
composition root (``proctor_console.app``), which registers them.
"""
