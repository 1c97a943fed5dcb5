"""``python -m isbnet_trt.training.synthetic``: see `cli`."""

from isbnet_trt.training.synthetic.cli import main

raise SystemExit(main())
