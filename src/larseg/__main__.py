from larseg.cli import main

main()
