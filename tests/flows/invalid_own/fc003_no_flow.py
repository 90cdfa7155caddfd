# expect: FC003 at line 1
class NotAFlow:
    pass
