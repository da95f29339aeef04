"""The v1 HTTP API: its protobuf packages (:mod:`mesos.v1.mesos_pb2`,
:mod:`mesos.v1.scheduler_pb2`) and the asyncio scheduler client :mod:`mesos.v1.aio`."""
